"""All of Allyloop's cryptography: envelopes, response keys, tokens, passwords, data at rest.

Nothing outside this package touches a cipher, a KDF or a random token directly.
"""
