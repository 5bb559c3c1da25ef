"""The auth feature: users, roles and permissions in Postgres, OAuth2 password login with
short-lived JWT access tokens and rotating refresh tokens (reuse revokes the whole family),
argon2 password hashing, login rate limiting, and the `create-superuser` command."""
