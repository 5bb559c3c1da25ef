"""Encrypted secrets committed to a project: `secrets/<environment>.env.age`, one per environment.

Each file is a dotenv body encrypted with age (pyrage) to every public key in
`secrets/recipients.txt`. The private key (identity) comes from `AGE_KEY` (the key text), else the
file `AGE_KEY_FILE`, else SOPS's default key file (`$XDG_CONFIG_HOME/sops/age/keys.txt`, i.e.
`~/.config/sops/age/keys.txt`), in the age-keygen format. `keys` finds and makes keys, `envfile`
reads and writes dotenv bodies, `vault` reads, changes and re-encrypts the files. Nothing here prints:
problems are `RisoError`s naming the fix, and values only leave through return values.
"""
