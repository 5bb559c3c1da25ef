"""The secrets feature: secrets committed to the repository, encrypted with age.

`secrets/<ENVIRONMENT>.env.age` (a dotenv body encrypted to every public key in
`secrets/recipients.txt`) is decrypted at start and read right after the environment: real
environment variables win over it, and it wins over `.env` files and `/run/secrets`. The key comes
from `AGE_KEY` (its text), else the file `AGE_KEY_FILE`, else `~/.config/sops/age/keys.txt`.
`riso secrets` creates the key and sets, edits and lists the values; `python -m
<package>.secrets.check` proves every committed file decrypts (CI runs it).
"""
