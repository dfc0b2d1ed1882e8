/*
 * Allyloop: seal an answer in the browser (DESIGN §4, RFC 9180 base mode).
 *
 * Suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM. The server's
 * crypto/envelope.py opens what this makes; the envelope is enc || ciphertext
 * (32 + pad_to + 16 bytes), sent as base64url without padding.
 *
 * Plain JavaScript over WebCrypto: no library, no build step. Everything is
 * exposed on window.AllyloopSeal; nothing here touches the page or the network.
 */
(function () {
  "use strict";

  var subtle = window.crypto && window.crypto.subtle;
  var encoder = new TextEncoder();

  // RFC 9180 §7: KEM 0x0020, KDF 0x0001, AEAD 0x0001.
  var KEM_SUITE_ID = concat(encoder.encode("KEM"), i2osp(0x0020, 2));
  var HPKE_SUITE_ID = concat(encoder.encode("HPKE"), i2osp(0x0020, 2), i2osp(0x0001, 2), i2osp(0x0001, 2));
  var VERSION_LABEL = encoder.encode("HPKE-v1");
  var HASH_LENGTH = 32; // SHA-256
  var KEY_LENGTH = 16; // AES-128
  var NONCE_LENGTH = 12;
  var SHARED_SECRET_LENGTH = 32;
  var MODE_BASE = 0x00;

  function i2osp(value, length) {
    var out = new Uint8Array(length);
    for (var i = length - 1; i >= 0; i -= 1) {
      out[i] = value & 0xff;
      value = value >>> 8;
    }
    return out;
  }

  function concat() {
    var total = 0;
    var i;
    for (i = 0; i < arguments.length; i += 1) total += arguments[i].length;
    var out = new Uint8Array(total);
    var offset = 0;
    for (i = 0; i < arguments.length; i += 1) {
      out.set(arguments[i], offset);
      offset += arguments[i].length;
    }
    return out;
  }

  function b64uEncode(bytes) {
    var text = "";
    for (var i = 0; i < bytes.length; i += 1) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function b64uDecode(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
      throw new Error("not base64url without padding");
    }
    var plain = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
    var out = new Uint8Array(plain.length);
    for (var i = 0; i < plain.length; i += 1) out[i] = plain.charCodeAt(i);
    return out;
  }

  async function hmac(key, data) {
    // An empty HKDF salt means HashLen zero bytes (RFC 5869 §2.2); HMAC pads keys with
    // zeros anyway, and WebCrypto refuses a zero-length HMAC key.
    var raw = key.length ? key : new Uint8Array(HASH_LENGTH);
    var hmacKey = await subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Uint8Array(await subtle.sign("HMAC", hmacKey, data));
  }

  // RFC 9180 §4: LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm)
  function labeledExtract(suiteId, salt, label, ikm) {
    return hmac(salt, concat(VERSION_LABEL, suiteId, encoder.encode(label), ikm));
  }

  // LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L)
  async function labeledExpand(suiteId, prk, label, info, length) {
    var labeledInfo = concat(i2osp(length, 2), VERSION_LABEL, suiteId, encoder.encode(label), info);
    var out = new Uint8Array(0);
    var block = new Uint8Array(0);
    for (var counter = 1; out.length < length; counter += 1) {
      block = await hmac(prk, concat(block, labeledInfo, i2osp(counter, 1)));
      out = concat(out, block);
    }
    return out.slice(0, length);
  }

  // RFC 9180 §4.1: Encap with a given ephemeral key pair (enc is its raw public key).
  async function encap(ephemeral, recipientRaw) {
    var recipient = await subtle.importKey("raw", recipientRaw, { name: "X25519" }, false, []);
    var dh = new Uint8Array(
      await subtle.deriveBits({ name: "X25519", public: recipient }, ephemeral.privateKey, 256)
    );
    if (dh.every(function (byte) { return byte === 0; })) throw new Error("X25519 gave an all-zero secret");
    var kemContext = concat(ephemeral.enc, recipientRaw);
    var eaePrk = await labeledExtract(KEM_SUITE_ID, new Uint8Array(0), "eae_prk", dh);
    return labeledExpand(KEM_SUITE_ID, eaePrk, "shared_secret", kemContext, SHARED_SECRET_LENGTH);
  }

  // RFC 9180 §5.1: KeySchedule for mode_base (no PSK).
  async function keySchedule(sharedSecret, info) {
    var empty = new Uint8Array(0);
    var pskIdHash = await labeledExtract(HPKE_SUITE_ID, empty, "psk_id_hash", empty);
    var infoHash = await labeledExtract(HPKE_SUITE_ID, empty, "info_hash", info);
    var context = concat(new Uint8Array([MODE_BASE]), pskIdHash, infoHash);
    var secret = await labeledExtract(HPKE_SUITE_ID, sharedSecret, "secret", empty);
    return {
      key: await labeledExpand(HPKE_SUITE_ID, secret, "key", context, KEY_LENGTH),
      baseNonce: await labeledExpand(HPKE_SUITE_ID, secret, "base_nonce", context, NONCE_LENGTH),
    };
  }

  // SetupBaseS + Seal at sequence number 0 (the nonce is base_nonce itself). Returns enc || ct.
  async function sealWithEphemeral(ephemeral, recipientRaw, info, aad, plaintext) {
    if (!(recipientRaw instanceof Uint8Array) || recipientRaw.length !== 32) {
      throw new Error("the response key must be 32 raw bytes");
    }
    var sharedSecret = await encap(ephemeral, recipientRaw);
    var schedule = await keySchedule(sharedSecret, info);
    var aesKey = await subtle.importKey("raw", schedule.key, { name: "AES-GCM" }, false, ["encrypt"]);
    var ciphertext = new Uint8Array(
      await subtle.encrypt(
        { name: "AES-GCM", iv: schedule.baseNonce, additionalData: aad, tagLength: 128 },
        aesKey,
        plaintext
      )
    );
    return concat(ephemeral.enc, ciphertext);
  }

  async function freshEphemeral() {
    var pair = await subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]);
    var enc = new Uint8Array(await subtle.exportKey("raw", pair.publicKey));
    return { privateKey: pair.privateKey, enc: enc };
  }

  /** True when this browser has WebCrypto with X25519 (else the server seals the plain form). */
  async function supported() {
    if (!subtle || !window.isSecureContext) return false;
    try {
      var pair = await freshEphemeral();
      return pair.enc.length === 32;
    } catch (error) {
      return false;
    }
  }

  /**
   * The contract's plaintext: UTF-8 JSON {"v":1,"answers":...,"comment":...,"pad":"  "}
   * padded with spaces to exactly padTo bytes, in the field order and compact form that
   * crypto/envelope.py's padded_plaintext uses.
   */
  function paddedPlaintext(answers, comment, padTo) {
    var body = { v: 1, answers: answers, comment: comment, pad: "" };
    var bare = encoder.encode(JSON.stringify(body)).length;
    if (!Number.isInteger(padTo) || bare > padTo) {
      var error = new Error("the answer is longer than the envelope allows");
      error.code = "too_long";
      throw error;
    }
    body.pad = " ".repeat(padTo - bare);
    var plaintext = encoder.encode(JSON.stringify(body));
    if (plaintext.length !== padTo) throw new Error("padding did not come out exact");
    return plaintext;
  }

  /**
   * Seal answers to the link's key. publicKey and info are base64url strings as the
   * server gives them; resolves to the base64url envelope, or rejects (never falls back).
   */
  async function sealAnswer(options) {
    var plaintext = paddedPlaintext(options.answers, options.comment, options.padTo);
    var sealed = await sealWithEphemeral(
      await freshEphemeral(),
      b64uDecode(options.publicKey),
      b64uDecode(options.info),
      new Uint8Array(0),
      plaintext
    );
    if (sealed.length !== 32 + options.padTo + 16) throw new Error("the envelope has the wrong length");
    return b64uEncode(sealed);
  }

  window.AllyloopSeal = Object.freeze({
    supported: supported,
    sealAnswer: sealAnswer,
    paddedPlaintext: paddedPlaintext,
    b64uEncode: b64uEncode,
    b64uDecode: b64uDecode,
    // TEST ONLY: the same sealing with a caller-chosen ephemeral key and aad, so the
    // browser tests can check RFC 9180 test vector A.1.1. Nothing on the page calls it;
    // real answers always use a fresh key from freshEphemeral().
    testOnlySealWithEphemeral: sealWithEphemeral,
  });
})();
