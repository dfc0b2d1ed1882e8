"""The crypto package: envelopes, response keys, tokens, passwords, data at rest, encoding."""

import base64
import hashlib
import hmac
import string

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from crypto import atrest, envelope, keyring, passwords, tokens
from crypto.encoding import b64u_decode, b64u_encode

# --- Fixed vector, made once with crypto.envelope.seal (HPKE encryption is randomized) ---

VECTOR_TOKEN = "AAECAwQFBgcICQoLDA0ODw"  # bytes 0x00..0x0f
VECTOR_PRIVATE_KEY = bytes.fromhex("d0eecc992330a6360801277154e6feb12a75aec6f5719614051a7268a19ea656")
VECTOR_PUBLIC_KEY = bytes.fromhex("56dcbfd4107c362cda8eb355bfe6f5dcb62fb0efb9b29eb6a2c4313272700e13")
VECTOR_KID = "rk-6ab52c96e307efbd"
VECTOR_QUESTIONNAIRE = "immediate.v1"
VECTOR_INFO = bytes.fromhex(
    "616c6c796c6f6f702f656e76656c6f70652f763100726b2d3661623532633936653330376566626400696d6d6564696174652e7631"
    "0067ab91992ce0f377fe716194a29edf14f130075fab6e8dbacb33b1ddd3fbe4a6"
)
VECTOR_PAD_TO = 160
VECTOR_PLAINTEXT = (
    b'{"v":1,"answers":{"helpful":4},"comment":{"text":"Thank you","audience":"ally"},"pad":"' + b" " * 71 + b'"}'
)
VECTOR_SEALED = bytes.fromhex(
    "20bd70e8b0f9d60f381f740751c8e03fdb6b285e9e5712dd374e0bdc79b7c6521c67ac629160d4e62978bc7e2342d198ec55ed1929fab8"
    "9e87b35fc16b51cab5f9f26d91b0988cc6643d83352e243e2532836f048bded55768a5d17834d0374f0c7aae5e180a9c2743b631475368"
    "e2159b7a45963746501ad267f46d1babbc6508c0d3d3da9cfebdbf3fa3f3aee5d1d4cb0cdd20155783a33d25b6198284b262f974bf049a"
    "f2066d06ad472667cb16c381eeaf66c07245c83a2e12ba7c3e909c0ed0a91c510011f8d14f42437df4806a"
)

# SHA-256(purpose || 0x00 || token) for VECTOR_TOKEN, computed once with hashlib.
VECTOR_LOOKUP_HASH = "9d4caa9aade9c9001fb507de945883015247356ad12b4ac7aaf53848898aa879"
VECTOR_BINDING = "67ab91992ce0f377fe716194a29edf14f130075fab6e8dbacb33b1ddd3fbe4a6"
VECTOR_API_TOKEN_HASH = "5fc981bc1ab676c43f28cfdbd0b9040449fcaf0e07da645264c8939a9d78465c"

OTHER_TOKEN = "_____________________w"


def _private(raw: bytes = VECTOR_PRIVATE_KEY) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(raw)


def _raw_public(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _info(token: str = VECTOR_TOKEN, kid: str = VECTOR_KID, questionnaire: str = VECTOR_QUESTIONNAIRE) -> bytes:
    return envelope.build_info(kid, questionnaire, tokens.link_binding(token))


# --- An independent RFC 9180 base-mode opener, built from primitives only (no hpke module) ---

_KEM_ID, _KDF_ID, _AEAD_ID = 0x0020, 0x0001, 0x0001  # DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM
_KEM_SUITE_ID = b"KEM" + _KEM_ID.to_bytes(2, "big")
_HPKE_SUITE_ID = b"HPKE" + _KEM_ID.to_bytes(2, "big") + _KDF_ID.to_bytes(2, "big") + _AEAD_ID.to_bytes(2, "big")


def _hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def _hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def _labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return _hkdf_extract(salt, b"HPKE-v1" + suite_id + label + ikm)


def _labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return _hkdf_expand(prk, length.to_bytes(2, "big") + b"HPKE-v1" + suite_id + label + info, length)


def rfc9180_open(private_raw: bytes, enc: bytes, info: bytes, aad: bytes, ciphertext: bytes) -> bytes:
    """RFC 9180 §4.1 (DHKEM Decap), §5.1 (KeySchedule, mode_base) and §5.2 (Open, seq 0)."""
    private = X25519PrivateKey.from_private_bytes(private_raw)
    dh = private.exchange(X25519PublicKey.from_public_bytes(enc))
    eae_prk = _labeled_extract(_KEM_SUITE_ID, b"", b"eae_prk", dh)
    shared_secret = _labeled_expand(_KEM_SUITE_ID, eae_prk, b"shared_secret", enc + _raw_public(private), 32)
    psk_id_hash = _labeled_extract(_HPKE_SUITE_ID, b"", b"psk_id_hash", b"")
    info_hash = _labeled_extract(_HPKE_SUITE_ID, b"", b"info_hash", info)
    context = b"\x00" + psk_id_hash + info_hash
    secret = _labeled_extract(_HPKE_SUITE_ID, shared_secret, b"secret", b"")
    key = _labeled_expand(_HPKE_SUITE_ID, secret, b"key", context, 16)
    base_nonce = _labeled_expand(_HPKE_SUITE_ID, secret, b"base_nonce", context, 12)
    return AESGCM(key).decrypt(base_nonce, ciphertext, aad)


# --- Known answers ---


def test_fixed_envelope_opens_to_its_plaintext() -> None:
    """An envelope sealed once with our code still opens to the same answer (no silent format drift)."""
    assert envelope.open_sealed(_private(), VECTOR_INFO, VECTOR_SEALED) == VECTOR_PLAINTEXT


def test_fixed_envelope_opens_with_cryptography_suite_directly() -> None:
    """Our wrapper adds nothing to HPKE: cryptography's own Suite opens the same envelope."""
    suite = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_128_GCM)
    assert suite.decrypt(VECTOR_SEALED, _private(), VECTOR_INFO) == VECTOR_PLAINTEXT


def test_independent_rfc9180_opener_matches_rfc_appendix_a1() -> None:
    """The hand-written RFC 9180 opener below reproduces RFC 9180 A.1.1 (base mode, this suite), sequence 0."""
    plaintext = rfc9180_open(
        private_raw=bytes.fromhex("4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8"),
        enc=bytes.fromhex("37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431"),
        info=bytes.fromhex("4f6465206f6e2061204772656369616e2055726e"),
        aad=bytes.fromhex("436f756e742d30"),
        ciphertext=bytes.fromhex(
            "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a"
        ),
    )
    assert plaintext == b"Beauty is truth, truth beauty"


def test_fixed_envelope_is_plain_rfc9180_base_mode() -> None:
    """Any RFC 9180 implementation (here one built from primitives) opens our envelope: enc || ct, empty aad."""
    enc, ciphertext = VECTOR_SEALED[: envelope.ENC_LENGTH], VECTOR_SEALED[envelope.ENC_LENGTH :]
    assert rfc9180_open(VECTOR_PRIVATE_KEY, enc, VECTOR_INFO, b"", ciphertext) == VECTOR_PLAINTEXT


def test_build_info_fixed_vector() -> None:
    """The HPKE info for a link is prefix, key id, questionnaire and link binding joined by NUL bytes."""
    assert _info() == VECTOR_INFO
    assert (
        b"\x00".join(
            [b"allyloop/envelope/v1", VECTOR_KID.encode(), VECTOR_QUESTIONNAIRE.encode(), bytes.fromhex(VECTOR_BINDING)]
        )
        == VECTOR_INFO
    )


def test_link_lookup_hash_fixed_vector() -> None:
    assert tokens.link_lookup_hash(VECTOR_TOKEN).hex() == VECTOR_LOOKUP_HASH


def test_link_binding_fixed_vector() -> None:
    assert tokens.link_binding(VECTOR_TOKEN).hex() == VECTOR_BINDING


def test_api_token_hash_fixed_vector() -> None:
    assert tokens.api_token_hash(VECTOR_TOKEN).hex() == VECTOR_API_TOKEN_HASH


def test_key_id_fixed_vector() -> None:
    """A response key's id is derived from its public key, so it is the same on every server and restart."""
    assert keyring.key_id(VECTOR_PUBLIC_KEY) == VECTOR_KID
    assert _raw_public(_private()) == VECTOR_PUBLIC_KEY


def test_fixed_plaintext_parses_to_the_answer() -> None:
    body = envelope.parse_plaintext(VECTOR_PLAINTEXT)
    assert body["answers"] == {"helpful": 4}
    assert body["comment"] == {"text": "Thank you", "audience": "ally"}
    assert len(VECTOR_PLAINTEXT) == VECTOR_PAD_TO


# --- Envelope round trips ---


def test_seal_then_open_returns_the_plaintext() -> None:
    private = X25519PrivateKey.generate()
    plaintext = envelope.padded_plaintext({"a": 1}, None, 128)
    sealed = envelope.seal(_raw_public(private), _info(), plaintext)
    assert envelope.open_sealed(private, _info(), sealed) == plaintext


def test_two_seals_of_the_same_answer_differ() -> None:
    """Envelopes are randomized, so equal answers cannot be spotted by comparing ciphertexts."""
    plaintext = envelope.padded_plaintext({"a": 1}, None, 128)
    assert envelope.seal(VECTOR_PUBLIC_KEY, VECTOR_INFO, plaintext) != envelope.seal(
        VECTOR_PUBLIC_KEY, VECTOR_INFO, plaintext
    )


def test_sealed_length_matches_real_envelopes() -> None:
    for pad_to in (64, 160, 1024, 4096):
        plaintext = envelope.padded_plaintext({}, None, pad_to)
        assert len(envelope.seal(VECTOR_PUBLIC_KEY, VECTOR_INFO, plaintext)) == envelope.sealed_length(pad_to)


_answers = st.dictionaries(
    st.text(min_size=1, max_size=20),
    st.one_of(st.integers(-(10**6), 10**6), st.text(max_size=30), st.none(), st.booleans()),
    max_size=6,
)
_comment = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"text": st.text(max_size=120), "audience": st.sampled_from(["ally", "lead", "both", "none"])}
    ),
)


@given(answers=_answers, comment=_comment)
def test_padded_plaintext_is_always_exactly_pad_to_bytes_and_parses_back(
    answers: dict[str, object], comment: dict[str, str] | None
) -> None:
    """Every answer, whatever its characters, becomes exactly pad_to bytes, so envelope length reveals nothing."""
    pad_to = 2048
    plaintext = envelope.padded_plaintext(answers, comment, pad_to)
    assert len(plaintext) == pad_to
    body = envelope.parse_plaintext(plaintext)
    assert body["v"] == 1
    assert body["answers"] == answers
    assert body["comment"] == comment
    assert set(body["pad"]) <= {" "}


def test_answer_that_exactly_fits_is_accepted_one_byte_less_is_not() -> None:
    padded = envelope.padded_plaintext({"a": 1}, None, 1024)
    exact = 1024 - len(envelope.parse_plaintext(padded)["pad"])
    assert envelope.parse_plaintext(envelope.padded_plaintext({"a": 1}, None, exact))["pad"] == ""
    with pytest.raises(envelope.EnvelopeError):
        envelope.padded_plaintext({"a": 1}, None, exact - 1)


def test_answer_too_long_for_pad_to_is_refused() -> None:
    with pytest.raises(envelope.EnvelopeError):
        envelope.padded_plaintext({"a": 1}, {"text": "x" * 200, "audience": "ally"}, 128)


def test_pad_to_counts_utf8_bytes_not_characters() -> None:
    """A comment in non-Latin script still pads to the byte length the server checks."""
    plaintext = envelope.padded_plaintext({}, {"text": "ありがとう 🙏", "audience": "both"}, 200)
    assert len(plaintext) == 200
    with pytest.raises(envelope.EnvelopeError):
        envelope.padded_plaintext({}, {"text": "🙏" * 40, "audience": "both"}, 150)


@pytest.mark.parametrize(
    "plaintext",
    [b"not json", b"\xff\xfe", b"[1, 2]", b'{"v": 2, "answers": {}}', b'{"answers": {}}', b"null"],
)
def test_parse_plaintext_refuses_anything_but_a_version_1_object(plaintext: bytes) -> None:
    with pytest.raises(envelope.EnvelopeError):
        envelope.parse_plaintext(plaintext)


def _parsed(plaintext: bytes) -> object:
    try:
        body = envelope.parse_plaintext(plaintext)
    except envelope.EnvelopeError:
        return "refused"
    pad = body.get("pad")
    return {**body, "pad": "spaces"} if isinstance(pad, str) and not pad.strip(" ") else body


_TAILS = [b'"}', b' "}', b'   "}', b'x  "}', b'\\  "}', b'\\"  "}', b'"  "}', b"  }", b'  "} ', b'  "}}']


@given(
    head=st.sampled_from([b'{"v":1,"answers":{},"comment":null', b'{"v":1,"answers":{"a":"x,\\"pad\\":\\""}', b"{"]),
    key=st.sampled_from([b',"pad":"', b',"pad": "', b',"pad":', b',"PAD":"', b'"pad":"']),
    spaces=st.integers(0, 600),
    tail=st.sampled_from(_TAILS),
)
def test_dropping_the_padding_never_changes_what_a_plaintext_says(
    head: bytes, key: bytes, spaces: int, tail: bytes
) -> None:
    plaintext = head + key + b" " * spaces + tail
    assert _parsed(envelope.without_padding(plaintext)) == _parsed(plaintext)


def test_a_padded_plaintext_loses_its_padding_before_it_is_parsed() -> None:
    padded = envelope.padded_plaintext({"wanted": "yes"}, {"text": "thanks   ", "audience": "ally"}, 1024)
    unpadded = envelope.without_padding(padded)
    assert len(unpadded) < 100 < len(padded)
    assert envelope.parse_plaintext(unpadded) == {**envelope.parse_plaintext(padded), "pad": ""}


# --- Envelope failures ---


def test_envelope_does_not_open_with_another_private_key() -> None:
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_sealed(X25519PrivateKey.generate(), VECTOR_INFO, VECTOR_SEALED)


@pytest.mark.parametrize(
    "other_info",
    [
        pytest.param(_info(token=OTHER_TOKEN), id="other-link"),
        pytest.param(_info(kid="rk-0000000000000000"), id="other-kid"),
        pytest.param(_info(questionnaire="followup.v1"), id="other-questionnaire"),
        pytest.param(b"", id="empty-info"),
    ],
)
def test_envelope_made_for_one_link_key_or_questionnaire_does_not_open_for_another(other_info: bytes) -> None:
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_sealed(_private(), other_info, VECTOR_SEALED)


@pytest.mark.parametrize(
    "damaged",
    [
        pytest.param(VECTOR_SEALED[:-1], id="last-byte-cut"),
        pytest.param(VECTOR_SEALED[1:], id="first-byte-cut"),
        pytest.param(VECTOR_SEALED[: envelope.ENC_LENGTH], id="enc-only"),
        pytest.param(VECTOR_SEALED[: envelope.ENC_LENGTH + envelope.TAG_LENGTH - 1], id="shorter-than-tag"),
        pytest.param(b"", id="empty"),
        pytest.param(VECTOR_SEALED + b"\x00", id="extra-byte"),
    ],
)
def test_truncated_or_extended_envelope_is_refused(damaged: bytes) -> None:
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_sealed(_private(), VECTOR_INFO, damaged)


@pytest.mark.parametrize("position", [0, 31, 32, 100, len(VECTOR_SEALED) - 17, len(VECTOR_SEALED) - 1])
def test_bit_flipped_envelope_is_refused(position: int) -> None:
    """A single flipped bit anywhere (encapsulated key, ciphertext or tag) stops the envelope opening."""
    damaged = bytearray(VECTOR_SEALED)
    damaged[position] ^= 0x01
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_sealed(_private(), VECTOR_INFO, bytes(damaged))


# --- Response keys ---


def test_generated_key_unwraps_to_the_private_half_of_its_public_key() -> None:
    kek = keyring.parse_kek(keyring.new_kek())
    new = keyring.generate(kek)
    private = keyring.unwrap(kek, new.kid, new.wrapped_private_key)
    assert _raw_public(private) == new.public_key
    assert new.kid == keyring.key_id(new.public_key)


def test_envelope_sealed_to_a_generated_key_opens_with_the_unwrapped_key() -> None:
    kek = keyring.parse_kek(keyring.new_kek())
    new = keyring.generate(kek)
    info = _info(kid=new.kid)
    sealed = envelope.seal(new.public_key, info, VECTOR_PLAINTEXT)
    assert envelope.open_sealed(keyring.unwrap(kek, new.kid, new.wrapped_private_key), info, sealed) == VECTOR_PLAINTEXT


def test_wrapped_key_does_not_unwrap_with_another_kek() -> None:
    new = keyring.generate(keyring.parse_kek(keyring.new_kek()))
    with pytest.raises(keyring.WrappedKeyError):
        keyring.unwrap(keyring.parse_kek(keyring.new_kek()), new.kid, new.wrapped_private_key)


def test_wrapped_key_does_not_unwrap_under_another_kid() -> None:
    """A wrapped private key moved to another key's row is refused, not silently used."""
    kek = keyring.parse_kek(keyring.new_kek())
    first, second = keyring.generate(kek), keyring.generate(kek)
    with pytest.raises(keyring.WrappedKeyError):
        keyring.unwrap(kek, second.kid, first.wrapped_private_key)


def test_tampered_wrapped_key_is_refused() -> None:
    kek = keyring.parse_kek(keyring.new_kek())
    new = keyring.generate(kek)
    damaged = bytearray(new.wrapped_private_key)
    damaged[-1] ^= 0x01
    with pytest.raises(keyring.WrappedKeyError):
        keyring.unwrap(kek, new.kid, bytes(damaged))


def test_truncated_wrapped_key_is_refused_as_a_wrapped_key_error() -> None:
    kek = keyring.parse_kek(keyring.new_kek())
    with pytest.raises(keyring.WrappedKeyError):
        keyring.unwrap(kek, "rk-0000000000000000", b"short")


def test_new_kek_parses_back_to_32_bytes() -> None:
    assert len(keyring.parse_kek(keyring.new_kek())) == keyring.KEK_LENGTH


def test_parse_kek_tolerates_surrounding_whitespace_from_env_files() -> None:
    text = keyring.new_kek()
    assert keyring.parse_kek(f"  {text}\n") == keyring.parse_kek(text)


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_parse_kek_refuses_wrong_length(length: int) -> None:
    with pytest.raises(keyring.WrappedKeyError, match=str(keyring.KEK_LENGTH)):
        keyring.parse_kek(b64u_encode(b"k" * length))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(b64u_encode(b"k" * 32) + "=", id="padded"),
        pytest.param("+" * 43, id="standard-alphabet-plus"),
        pytest.param("/" * 43, id="standard-alphabet-slash"),
        pytest.param("not a key at all, not base64url!!!!!!!!!!!", id="prose"),
        pytest.param(b64u_encode(b"k" * 32)[:20] + " " + b64u_encode(b"k" * 32)[20:], id="inner-space"),
    ],
)
def test_parse_kek_refuses_non_base64url(text: str) -> None:
    with pytest.raises(keyring.WrappedKeyError):
        keyring.parse_kek(text)


def test_key_id_is_stable_and_distinct_per_public_key() -> None:
    other = _raw_public(X25519PrivateKey.generate())
    assert keyring.key_id(VECTOR_PUBLIC_KEY) == keyring.key_id(bytes(VECTOR_PUBLIC_KEY))
    assert keyring.key_id(other) != keyring.key_id(VECTOR_PUBLIC_KEY)


def test_wrapping_the_same_key_twice_gives_different_blobs() -> None:
    kek = keyring.parse_kek(keyring.new_kek())
    assert keyring.wrap(kek, VECTOR_KID, VECTOR_PRIVATE_KEY) != keyring.wrap(kek, VECTOR_KID, VECTOR_PRIVATE_KEY)


# --- Tokens ---


def test_link_token_is_22_base64url_chars_carrying_128_bits() -> None:
    token = tokens.new_link_token()
    assert len(token) == 22
    assert set(token) <= set(string.ascii_letters + string.digits + "-_")
    assert len(b64u_decode(token)) == 16
    assert tokens.is_link_token(token)


def test_link_tokens_do_not_repeat() -> None:
    assert len({tokens.new_link_token() for _ in range(1000)}) == 1000


def test_api_tokens_are_256_bit_and_distinct() -> None:
    drawn = {tokens.new_api_token() for _ in range(200)}
    assert len(drawn) == 200
    assert all(len(b64u_decode(token)) == 32 for token in drawn)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param(VECTOR_TOKEN[:-1], id="21-chars"),
        pytest.param(VECTOR_TOKEN + "A", id="23-chars"),
        pytest.param(VECTOR_TOKEN + "==", id="padded"),
        pytest.param("+" + VECTOR_TOKEN[1:], id="plus"),
        pytest.param("/" + VECTOR_TOKEN[1:], id="slash"),
        pytest.param(VECTOR_TOKEN[:10] + "." + VECTOR_TOKEN[11:], id="dot"),
        pytest.param(" " + VECTOR_TOKEN[1:], id="space"),
        pytest.param(VECTOR_TOKEN + "\n", id="trailing-newline"),
        pytest.param("é" + VECTOR_TOKEN[1:], id="non-ascii"),
        pytest.param(b64u_encode(bytes(32)), id="api-token-length"),
        pytest.param("../../etc/passwd", id="path"),
    ],
)
def test_is_link_token_refuses_anything_but_16_bytes_of_base64url(text: str) -> None:
    assert not tokens.is_link_token(text)


def test_is_link_token_refuses_non_strings() -> None:
    assert not tokens.is_link_token(None)  # type: ignore[arg-type]
    assert not tokens.is_link_token(b"AAECAwQFBgcICQoLDA0ODw")  # type: ignore[arg-type]


def test_lookup_hash_and_envelope_binding_of_a_token_differ() -> None:
    """The row marking a link used cannot be joined to its response without the token itself."""
    token = tokens.new_link_token()
    assert tokens.link_lookup_hash(token) != tokens.link_binding(token)
    assert tokens.link_lookup_hash(token) != tokens.api_token_hash(token)


def test_token_hashes_differ_per_token() -> None:
    assert tokens.link_lookup_hash(VECTOR_TOKEN) != tokens.link_lookup_hash(OTHER_TOKEN)
    assert tokens.link_binding(VECTOR_TOKEN) != tokens.link_binding(OTHER_TOKEN)


def test_rate_key_hides_the_value_and_separates_purposes() -> None:
    key = tokens.rate_key("login", "ally@example.org")
    assert "ally" not in key
    assert key == tokens.rate_key("login", "ally@example.org")
    assert key != tokens.rate_key("answer", "ally@example.org")
    assert key != tokens.rate_key("login", "lead@example.org")


# --- Passwords ---

CHEAP = 16


def test_password_verifies_against_its_own_hash() -> None:
    stored = passwords.hash_password("correct horse battery staple", cost=CHEAP)
    assert passwords.verify_password("correct horse battery staple", stored)


def test_wrong_password_does_not_verify() -> None:
    stored = passwords.hash_password("correct horse battery staple", cost=CHEAP)
    assert not passwords.verify_password("correct horse battery stapler", stored)
    assert not passwords.verify_password("", stored)


def test_non_ascii_password_round_trips() -> None:
    stored = passwords.hash_password("pässwörd-日本", cost=CHEAP)
    assert passwords.verify_password("pässwörd-日本", stored)
    assert not passwords.verify_password("passwort-日本", stored)


def test_same_password_hashes_differently_each_time() -> None:
    """Salted: two accounts with the same password do not share a stored hash."""
    assert passwords.hash_password("same", cost=CHEAP) != passwords.hash_password("same", cost=CHEAP)


def test_stored_hash_does_not_contain_the_password() -> None:
    assert "hunter2-secret" not in passwords.hash_password("hunter2-secret", cost=CHEAP)


def test_stored_hash_records_its_cost_so_old_hashes_still_verify_after_a_cost_change() -> None:
    assert passwords.hash_password("x", cost=CHEAP).startswith(f"scrypt${CHEAP}$")


_GOOD = passwords.hash_password("pw", cost=CHEAP)
_SALT, _DIGEST = _GOOD.split("$")[4], _GOOD.split("$")[5]


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param("", id="empty"),
        pytest.param("scrypt", id="scheme-only"),
        pytest.param("plain:pw", id="not-our-format"),
        pytest.param(_GOOD.replace("scrypt$", "bcrypt$"), id="other-scheme"),
        pytest.param(_GOOD + "$extra", id="too-many-fields"),
        pytest.param(f"scrypt$abc$8$1${_SALT}${_DIGEST}", id="cost-not-a-number"),
        pytest.param(f"scrypt$15$8$1${_SALT}${_DIGEST}", id="cost-not-power-of-two"),
        pytest.param(f"scrypt$1$8$1${_SALT}${_DIGEST}", id="cost-one"),
        pytest.param(f"scrypt$16$0$1${_SALT}${_DIGEST}", id="r-zero"),
        pytest.param(f"scrypt$16$8$0${_SALT}${_DIGEST}", id="p-zero"),
        pytest.param(f"scrypt$16$8$1$!!${_DIGEST}", id="salt-not-base64url"),
        pytest.param(f"scrypt$16$8$1${_SALT}$!!", id="digest-not-base64url"),
        pytest.param(f"scrypt$16$8$1${_SALT}$A", id="digest-bad-length"),
        pytest.param(f"scrypt$16$8$1${_SALT}$", id="digest-empty"),
        pytest.param(f"scrypt$16$8$1${_SALT}${_DIGEST[:-4]}", id="digest-truncated"),
    ],
)
def test_malformed_stored_hash_never_verifies_and_never_raises(stored: str) -> None:
    assert passwords.verify_password("pw", stored) is False


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param(f"scrypt$-16$8$1${_SALT}${_DIGEST}", id="negative-cost"),
        pytest.param(f"scrypt${2**40}$8$1${_SALT}${_DIGEST}", id="huge-cost"),
        pytest.param(f"scrypt$16$99999999$99999${_SALT}${_DIGEST}", id="huge-r-p"),
    ],
)
def test_stored_hash_with_absurd_parameters_returns_false(stored: str) -> None:
    assert passwords.verify_password("pw", stored) is False


# --- Data at rest ---

SECRET = "test-secret-key-that-is-long-enough-0123456789"


def test_at_rest_round_trip() -> None:
    key = atrest.derive_key(SECRET, "released-comments")
    blob = atrest.encrypt(key, b"a comment", b"cohort-1")
    assert atrest.decrypt(key, blob, b"cohort-1") == b"a comment"


def test_at_rest_blob_does_not_contain_the_plaintext() -> None:
    key = atrest.derive_key(SECRET, "released-comments")
    blob = atrest.encrypt(key, b"a very recognisable comment", b"cohort-1")
    assert b"recognisable" not in blob
    assert blob != atrest.encrypt(key, b"a very recognisable comment", b"cohort-1")


def test_at_rest_blob_does_not_decrypt_in_another_context() -> None:
    """A comment blob copied to another cohort's row does not decrypt there."""
    key = atrest.derive_key(SECRET, "released-comments")
    blob = atrest.encrypt(key, b"a comment", b"cohort-1")
    with pytest.raises(atrest.AtRestError):
        atrest.decrypt(key, blob, b"cohort-2")


def test_at_rest_blob_does_not_decrypt_with_another_key() -> None:
    blob = atrest.encrypt(atrest.derive_key(SECRET, "released-comments"), b"a comment", b"cohort-1")
    with pytest.raises(atrest.AtRestError):
        atrest.decrypt(atrest.derive_key(SECRET + "x", "released-comments"), blob, b"cohort-1")
    with pytest.raises(atrest.AtRestError):
        atrest.decrypt(atrest.derive_key(SECRET, "other-purpose"), blob, b"cohort-1")


def test_tampered_at_rest_blob_is_refused() -> None:
    key = atrest.derive_key(SECRET, "released-comments")
    damaged = bytearray(atrest.encrypt(key, b"a comment", b"cohort-1"))
    damaged[15] ^= 0x01
    with pytest.raises(atrest.AtRestError):
        atrest.decrypt(key, bytes(damaged), b"cohort-1")


def test_truncated_at_rest_blob_is_refused_as_an_at_rest_error() -> None:
    key = atrest.derive_key(SECRET, "released-comments")
    with pytest.raises(atrest.AtRestError):
        atrest.decrypt(key, b"short", b"cohort-1")


def test_derive_key_is_stable_so_released_comments_survive_a_restart() -> None:
    assert atrest.derive_key(SECRET, "released-comments") == atrest.derive_key(SECRET, "released-comments")
    assert len(atrest.derive_key(SECRET, "released-comments")) == 32


def test_derive_key_differs_per_purpose_and_per_secret() -> None:
    assert atrest.derive_key(SECRET, "released-comments") != atrest.derive_key(SECRET, "sessions")
    assert atrest.derive_key(SECRET, "released-comments") != atrest.derive_key(SECRET + "x", "released-comments")


# --- Encoding ---


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("AA==", id="padding"),
        pytest.param("AAA=", id="single-pad"),
        pytest.param("AA+A", id="plus"),
        pytest.param("AA/A", id="slash"),
        pytest.param(" AAAA", id="leading-space"),
        pytest.param("AA AA", id="inner-space"),
        pytest.param("AAAA\n", id="trailing-newline"),
        pytest.param("AAA\n", id="trailing-newline-len-4"),
        pytest.param("AAAAAA\n", id="trailing-newline-len-7"),
        pytest.param("\tAAA", id="tab"),
        pytest.param("A", id="length-1"),
        pytest.param("AAAAA", id="length-5"),
        pytest.param("AAAA.", id="dot"),
        pytest.param("ÄAAA", id="non-ascii"),
    ],
)
def test_b64u_decode_refuses_anything_but_unpadded_base64url(text: str) -> None:
    with pytest.raises(ValueError):
        b64u_decode(text)


def test_b64u_decode_refuses_bytes() -> None:
    with pytest.raises(ValueError):
        b64u_decode(b"AAAA")  # type: ignore[arg-type]


def test_b64u_decode_of_empty_text_is_empty_bytes() -> None:
    assert b64u_decode("") == b""


@given(st.binary(max_size=256))
def test_b64u_round_trips_any_bytes_without_padding(data: bytes) -> None:
    text = b64u_encode(data)
    assert "=" not in text
    assert set(text) <= set(string.ascii_letters + string.digits + "-_")
    assert b64u_decode(text) == data


_URLSAFE = string.ascii_letters + string.digits + "-_"


@given(st.binary(max_size=200))
def test_base64url_reads_back_what_it_wrote(data: bytes) -> None:
    assert b64u_decode(b64u_encode(data)) == data


@given(st.text(alphabet=_URLSAFE + "=+/ \n.\x00é", max_size=40))
def test_base64url_accepts_exactly_unpadded_urlsafe_text(text: str) -> None:
    """Anything with padding, the standard alphabet's "+" and "/", spaces or other characters,
    or a length no encoding has, is refused; the rest decodes as the standard library does."""
    valid = set(text) <= set(_URLSAFE) and len(text) % 4 != 1
    if not valid:
        with pytest.raises(ValueError, match="base64url"):
            b64u_decode(text)
        return
    assert b64u_decode(text) == base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
