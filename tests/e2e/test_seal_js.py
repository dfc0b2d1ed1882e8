"""web/static/seal.js in Chromium: RFC 9180 known answers, and envelopes the server's crypto opens."""

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from crypto import envelope, tokens
from crypto.encoding import b64u_decode, b64u_encode
from tests.e2e.conftest import LiveServer

# RFC 9180 Appendix A.1.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode.
A11_SK_E = "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736"
A11_PK_E = "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431"
A11_SK_R = "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8"
A11_INFO = "4f6465206f6e2061204772656369616e2055726e"
A11_AAD = "436f756e742d30"  # "Count-0"
A11_PT = b"Beauty is truth, truth beauty"
A11_CT = "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a"

# PKCS#8 wrapping of a raw X25519 private key (RFC 8410), so WebCrypto can import it.
PKCS8_X25519_PREFIX = "302e020100300506032b656e04220420"

KAT_SCRIPT = """async ([skE, pkE, pkR, info, aad, pt]) => {
  const hex = (h) => Uint8Array.from(h.match(/../g), (b) => parseInt(b, 16));
  const privateKey = await crypto.subtle.importKey("pkcs8", hex(skE), {name: "X25519"}, false, ["deriveBits"]);
  const out = await AllyloopSeal.testOnlySealWithEphemeral(
    {privateKey, enc: hex(pkE)}, hex(pkR), hex(info), hex(aad), new TextEncoder().encode(pt));
  return Array.from(out, (b) => b.toString(16).padStart(2, "0")).join("");
}"""

SEAL_SCRIPT = """async ([answers, comment, padTo, publicKey, info]) =>
  AllyloopSeal.sealAnswer({answers, comment, padTo, publicKey, info})"""


def _public(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@pytest.fixture
def seal_page(live_server: LiveServer, page: Any) -> Any:
    """A same-origin page (a secure context on loopback) with seal.js loaded as the answer page loads it."""
    page.goto(live_server.url + "/")
    page.add_script_tag(url="/static/seal.js")
    page.wait_for_function("window.AllyloopSeal !== undefined")
    return page


def test_seal_js_reproduces_rfc9180_vector_a11(seal_page: Any) -> None:
    """With the RFC's ephemeral key, seal.js gives the RFC's enc || ciphertext for sequence 0."""
    pk_r = _public(X25519PrivateKey.from_private_bytes(bytes.fromhex(A11_SK_R))).hex()
    args = [PKCS8_X25519_PREFIX + A11_SK_E, A11_PK_E, pk_r, A11_INFO, A11_AAD, A11_PT.decode()]
    assert seal_page.evaluate(KAT_SCRIPT, args) == A11_PK_E + A11_CT


def test_this_browser_supports_x25519_sealing(seal_page: Any) -> None:
    """The Chromium the tests use seals in the browser (else the JS path would not be tested at all)."""
    assert seal_page.evaluate("AllyloopSeal.supported()") is True


def test_an_envelope_made_by_seal_js_opens_with_the_server_crypto(seal_page: Any) -> None:
    """Round trip: seal.js seals, crypto.envelope.open_sealed opens the exact contract plaintext."""
    private = X25519PrivateKey.generate()
    info = envelope.build_info("rk-test", "immediate.v1", tokens.link_binding("AAECAwQFBgcICQoLDA0ODw"))
    answers = {"wanted": "partly", "felt_recognised": 4, "changed_treatment": "na", "downsides": ["spoken_for"]}
    comment = {"text": "Merci — ça m'a aidé 🌱\nline two", "audience": "both"}
    pad_to = 4608
    sealed = seal_page.evaluate(
        SEAL_SCRIPT, [answers, comment, pad_to, b64u_encode(_public(private)), b64u_encode(info)]
    )
    blob = b64u_decode(sealed)
    assert len(blob) == envelope.sealed_length(pad_to)
    plaintext = envelope.open_sealed(private, info, blob)
    assert plaintext == envelope.padded_plaintext(answers, comment, pad_to), "byte for byte what the server makes"
    body = envelope.parse_plaintext(plaintext)
    assert (body["answers"], body["comment"]) == (answers, comment)
    assert json.loads(plaintext)["pad"].strip() == ""


def test_seal_js_envelopes_are_fresh_each_time(seal_page: Any) -> None:
    """Two seals of the same answer differ (a new ephemeral key each time) but have the same length."""
    key = b64u_encode(_public(X25519PrivateKey.generate()))
    info = b64u_encode(b"allyloop/envelope/v1")
    first = seal_page.evaluate(SEAL_SCRIPT, [{}, None, 256, key, info])
    second = seal_page.evaluate(SEAL_SCRIPT, [{}, None, 256, key, info])
    assert first != second and len(first) == len(second)


def test_seal_js_refuses_an_answer_longer_than_pad_to(seal_page: Any) -> None:
    """Too long to pad is an error, never a shorter or longer envelope."""
    key = b64u_encode(_public(X25519PrivateKey.generate()))
    with pytest.raises(Exception, match="longer than the envelope allows"):
        seal_page.evaluate(SEAL_SCRIPT, [{}, {"text": "x" * 300, "audience": "ally"}, 256, key, "AA"])


def test_seal_js_refuses_a_key_that_is_not_32_bytes(seal_page: Any) -> None:
    with pytest.raises(Exception, match="32 raw bytes"):
        seal_page.evaluate(SEAL_SCRIPT, [{}, None, 256, b64u_encode(b"short"), "AA"])
