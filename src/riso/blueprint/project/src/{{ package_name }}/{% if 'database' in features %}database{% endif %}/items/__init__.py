"""The example `items` resource: schemas, queries, and the use cases built on them."""
