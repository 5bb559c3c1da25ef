"""An API service with a database, a cache and monitoring"""

__version__ = "0.1.0"
