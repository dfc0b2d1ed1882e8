"""Opening a batch of pending answers and counting it: the work a release does per answer.

A release streams its scope's envelopes in batches and hands each one to ``open_batch``:
in the job's own process, or, for a large release with ``processes`` above 1, in a pool of
spawned processes that use the other cores. Either way the same function does the work and
returns what the release needs: the batch's counts (a ``CohortBuilder`` to merge), which
answers were released or invalid, and the comments meant for the scope's reader. The
database and the at-rest key stay with the job; a pool process holds only the private
response keys of that release, and ends with it.

An answer counts in two views, its ally's and its group's. When a tick releases both, the
second release reads what the first opened (``OpenedOnce``), in memory and for that tick
only, instead of opening the envelope again.
"""

import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from types import MappingProxyType

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from crypto import envelope
from feedback import kinds, questionnaires
from feedback.release.cohorts import CohortBuilder
from feedback.release.rules import Opened

KeyLoader = Callable[[str], X25519PrivateKey]
# A pending answer as streamed: id, ally, kind, visibility, stage, person, kid, info, sealed.
Row = tuple[int, int, str, str, str | None, bytes | None, str, bytes, bytes]
# An opened answer as read: its answers and comment, or None if it must be discarded.
Body = tuple[questionnaires.Answers, questionnaires.Comment | None] | None
UNKNOWN_STAGE = "followup"  # answers stored before responses kept their stage
log = logging.getLogger("allyloop.jobs")


@dataclass(frozen=True)
class Counting:
    """How one scope's answers are counted, and whose comments its reader may read."""

    questionnaire_id: str
    k: int
    min_allies: int
    each_ally: bool
    dimensions: tuple[str, ...]
    audiences: tuple[str, ...]

    def builder(self) -> CohortBuilder:
        return CohortBuilder(k=self.k, min_allies=self.min_allies, dimensions=self.dimensions, each_ally=self.each_ally)


@dataclass
class Batch:
    counts: CohortBuilder
    released: list[int] = field(default_factory=list)
    invalid: list[int] = field(default_factory=list)
    # (the ally it is about, plain text): the job seals them at rest at once
    comments: list[tuple[int, str]] = field(default_factory=list)


@functools.cache
def cells_of(kind: str, visibility: str, stage: str | None) -> Mapping[str, str]:
    """A response's cell in every dimension any cohort is cut by. Made once per combination
    (a handful exist) and shared, read-only, by every response that falls in it."""
    path = kinds.path_of(kind)
    stage = stage or UNKNOWN_STAGE
    return MappingProxyType(
        {
            "path": path,
            "kind": kind,
            "visibility": visibility,
            "stage": stage,
            "stage_path": f"{stage}:{path}",
            "stage_kind": f"{stage}:{kind}",
        }
    )


class OpenedOnce:
    """What a tick has opened, by questionnaire and response id, so that the release of an
    answer's other view in the same tick counts it without opening it again (opening is
    most of a release's work per answer). Held in memory by the tick and dropped with it;
    past ``limit`` answers it keeps no more, and later releases open theirs as before."""

    def __init__(self, limit: int = 10_000) -> None:
        self._bodies: dict[tuple[str, int], Body] = {}
        self._limit = limit

    def bodies(self, rows: Sequence[Row], keys: KeyLoader, questionnaire: questionnaires.Questionnaire) -> list[Body]:
        """Each row's body: read from what this tick opened, or opened now."""
        known = self._bodies
        fresh = [row for row in rows if (questionnaire.id, row[0]) not in known]
        opened = dict(zip((row[0] for row in fresh), _open(fresh, keys, questionnaire), strict=True))
        if len(known) + len(opened) <= self._limit:
            known.update(((questionnaire.id, response_id), body) for response_id, body in opened.items())
        return [opened[row[0]] if row[0] in opened else known[(questionnaire.id, row[0])] for row in rows]


def _open(rows: Sequence[Row], keys: KeyLoader, questionnaire: questionnaires.Questionnaire) -> list[Body]:
    """Each step runs over the whole batch before the next starts. Interleaved one answer at
    a time, OpenSSL's decryption and the Python that reads and counts push each other out
    of the CPU's caches: that cost about a fifth more per answer (bench/release.py)."""
    # A key that will not unwrap is the operator's error: it fails the job, and loses nothing.
    plaintexts = [_decrypt(keys(kid), info, sealed) for *_, kid, info, sealed in rows]
    return [None if plaintext is None else _read(plaintext, questionnaire) for plaintext in plaintexts]


def open_batch(rows: Sequence[Row], keys: KeyLoader, counting: Counting, once: OpenedOnce | None = None) -> Batch:
    """Open, check and count each answer; one that does not open or fit is invalid. With
    ``once``, answers this tick has opened already are not opened again."""
    questionnaire = questionnaires.load(counting.questionnaire_id)
    bodies = _open(rows, keys, questionnaire) if once is None else once.bodies(rows, keys, questionnaire)
    batch = Batch(counts=counting.builder())
    for (response_id, ally_id, kind, visibility, stage, person, *_), body in zip(rows, bodies, strict=True):
        if body is None:
            batch.invalid.append(response_id)
            continue
        answers, comment = body
        slices = cells_of(kind, visibility, stage)
        batch.counts.add(Opened(answers=answers, ally_id=ally_id, slices=slices, person=person))
        batch.released.append(response_id)
        if comment is not None and comment["audience"] in counting.audiences:
            batch.comments.append((ally_id, comment["text"]))
    return batch


def _decrypt(private_key: X25519PrivateKey, info: bytes, sealed: bytes) -> bytes | None:
    """The plaintext, without its padding; None if the envelope does not open."""
    try:
        return envelope.without_padding(envelope.open_sealed(private_key, info, sealed))
    except envelope.EnvelopeError:
        return None


def _read(
    plaintext: bytes, questionnaire: questionnaires.Questionnaire
) -> tuple[questionnaires.Answers, questionnaires.Comment | None] | None:
    """Parse and check one opened answer; None if it must be discarded as invalid."""
    try:
        body = envelope.parse_plaintext(plaintext)
        if set(body) != {"v", "answers", "comment", "pad"} or not isinstance(body["pad"], str) or body["pad"].strip():
            return None
        return questionnaire.validate_answers(body["answers"]), questionnaire.validate_comment(body["comment"])
    except Exception:  # noqa: BLE001 - whatever a sender put inside, it only ever makes the answer invalid
        return None


def open_all(
    batches: Iterable[Sequence[Row]],
    keys: KeyLoader,
    counting: Counting,
    *,
    kids: Sequence[str],
    processes: int,
    once: OpenedOnce | None = None,
) -> Iterator[Batch]:
    """``open_batch`` over every batch, in order: on ``processes`` spawned processes when that
    is more than one (large releases: ``once`` is not used there). Two batches per process
    at most are in flight, so memory stays flat."""
    if processes <= 1:
        for rows in batches:
            yield open_batch(rows, keys, counting, once)
        return
    private = {kid: keys(kid).private_bytes_raw() for kid in kids}
    log.info("opening a large release on %d processes", processes)
    # spawn, not fork: a fresh interpreter shares no threads, connections or locks with the job.
    context = get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=context, initializer=_hold, initargs=(private,)) as pool:
        in_flight: list[Future[Batch]] = []
        for _ in range(processes):  # start every process now, while the database sorts the batches
            pool.submit(_ready)
        try:
            for rows in batches:
                in_flight.append(pool.submit(_open_held, list(rows), counting))
                if len(in_flight) >= 2 * processes:
                    yield in_flight.pop(0).result()
            while in_flight:
                yield in_flight.pop(0).result()
        finally:
            for future in in_flight:  # the job failed: drop what is left, nothing was written
                future.cancel()


_held: dict[str, X25519PrivateKey] = {}  # in a pool process: the keys of the release it serves


def _hold(private: dict[str, bytes]) -> None:
    _held.update({kid: X25519PrivateKey.from_private_bytes(raw) for kid, raw in private.items()})


def _ready() -> None:
    """Nothing: submitted once per process so that all of them start at once."""


def _open_held(rows: Sequence[Row], counting: Counting) -> Batch:
    return open_batch(rows, _held.__getitem__, counting)
