"""An API service with a database, a cache, background jobs and monitoring"""

__version__ = "0.1.0"
