"""Kinds: one definition each, from which the picker's groups derive."""

from feedback import kinds


def test_the_pickers_groups_hold_every_kind_once_path_by_path() -> None:
    signaling = kinds.on_paths({kinds.SIGNALING})
    mitigation = kinds.on_paths(kinds.MITIGATION_PATHS)
    assert signaling == ("amplify", "credit", "other")
    assert mitigation == ("confront_bias", "mentor", "share_resource", "sponsor", "connect", "change_process")
    assert sorted(signaling + mitigation) == sorted(kinds.KINDS)


def test_a_kind_no_longer_known_still_reads_as_words() -> None:
    assert kinds.kind_name("connect") == "Introduce"
    assert kinds.kind_name("cheer_on") == "Cheer on"
