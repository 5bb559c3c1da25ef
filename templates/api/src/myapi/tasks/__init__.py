"""The tasks feature: background jobs with SAQ on Redis. Retries with exponential backoff, a job
timeout and a short sweep so a job whose worker died runs again (at least once), periodic jobs
in the worker, results readable by job id, and a dead-letter list for jobs that failed for good.
The worker is `python -m <package> worker`; the jobs are in `jobs.py`."""
