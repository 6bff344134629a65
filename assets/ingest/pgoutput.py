"""A small pure decoder for pgoutput messages (logical replication protocol version 1).

Input is one `data` value of pg_logical_slot_peek_binary_changes (one message per row); output is a
frozen dataclass per message. Only what ingest needs is modelled: Begin, Commit, Relation, Insert,
Update, Delete, Truncate; Origin, Type and logical Message are decoded enough to be skipped.

Tuple values are `None` (SQL NULL), `UNCHANGED` (an unchanged TOASTed column, 'u': the warehouse keeps
its value), `str` (text output of the column type) or `bytes` (binary format, unused here).
Reference: PostgreSQL docs, "Logical Replication Message Formats".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable
from datetime import datetime, timedelta, timezone

PG_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


class _Unchanged:
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged()


class DecodeError(ValueError):
    pass


def lsn_to_str(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def lsn_from_str(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def pg_time(micros: int) -> datetime:
    return PG_EPOCH + timedelta(microseconds=micros)


@dataclass(frozen=True)
class Begin:
    final_lsn: int  # LSN of the commit record
    commit_time: datetime
    xid: int


@dataclass(frozen=True)
class Commit:
    flags: int
    commit_lsn: int
    end_lsn: int  # end of the commit record: where the slot may advance to
    commit_time: datetime


@dataclass(frozen=True)
class Column:
    name: str
    type_oid: int
    typmod: int
    is_key: bool


@dataclass(frozen=True)
class Relation:
    relid: int
    namespace: str
    name: str
    replica_identity: str
    columns: tuple[Column, ...]

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class Insert:
    relid: int
    new: tuple


@dataclass(frozen=True)
class Update:
    relid: int
    new: tuple
    old: tuple | None = None  # present when the key changed ('K') or replica identity is FULL ('O')
    old_kind: str | None = None


@dataclass(frozen=True)
class Delete:
    relid: int
    old: tuple
    old_kind: str


@dataclass(frozen=True)
class Truncate:
    relids: tuple[int, ...]
    cascade: bool
    restart_identity: bool


@dataclass(frozen=True)
class Origin:
    lsn: int
    name: str


@dataclass(frozen=True)
class TypeInfo:
    oid: int
    namespace: str
    name: str


@dataclass(frozen=True)
class LogicalMessage:
    transactional: bool
    lsn: int
    prefix: str
    content: bytes


Message = Begin | Commit | Relation | Insert | Update | Delete | Truncate | Origin | TypeInfo | LogicalMessage


_INT16 = struct.Struct("!h").unpack_from
_INT32 = struct.Struct("!i").unpack_from


class _Reader:
    __slots__ = ("buf", "pos")

    def __init__(self, data: bytes | memoryview):
        self.buf = bytes(data)
        self.pos = 0

    def _take(self, fmt: str, size: int):
        if self.pos + size > len(self.buf):
            raise DecodeError(f"message truncated at byte {self.pos} (needs {size} more)")
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return value

    def byte(self) -> str:
        return chr(self._take("!B", 1))

    def int8(self) -> int:
        return self._take("!b", 1)

    def int16(self) -> int:
        return self._take("!h", 2)

    def int32(self) -> int:
        return self._take("!i", 4)

    def uint32(self) -> int:
        return self._take("!I", 4)

    def int64(self) -> int:
        return self._take("!q", 8)

    def uint64(self) -> int:
        return self._take("!Q", 8)

    def string(self) -> str:
        end = self.buf.find(b"\0", self.pos)
        if end < 0:
            raise DecodeError(f"unterminated string at byte {self.pos}")
        text = self.buf[self.pos:end].decode("utf-8")
        self.pos = end + 1
        return text

    def raw(self, size: int) -> bytes:
        if size < 0 or self.pos + size > len(self.buf):
            raise DecodeError(f"value of {size} bytes overruns message at byte {self.pos}")
        chunk = self.buf[self.pos:self.pos + size]
        self.pos += size
        return chunk

    def tuple_data(self) -> tuple:
        """TupleData, on the hot path of every change: one loop with local lookups, no per-field calls."""
        buf, pos, size = self.buf, self.pos, len(self.buf)
        if pos + 2 > size:
            raise DecodeError(f"message truncated at byte {pos} (needs 2 more)")
        (count,) = _INT16(buf, pos)
        pos += 2
        values = []
        append = values.append
        for _ in range(count):
            if pos >= size:
                raise DecodeError(f"message truncated at byte {pos} (needs 1 more)")
            kind = buf[pos]
            pos += 1
            if kind == 116 or kind == 98:  # 't' text, 'b' binary
                if pos + 4 > size:
                    raise DecodeError(f"message truncated at byte {pos} (needs 4 more)")
                (length,) = _INT32(buf, pos)
                pos += 4
                end = pos + length
                if length < 0 or end > size:
                    raise DecodeError(f"value of {length} bytes overruns message at byte {pos}")
                append(buf[pos:end].decode("utf-8") if kind == 116 else buf[pos:end])
                pos = end
            elif kind == 110:  # 'n'
                append(None)
            elif kind == 117:  # 'u'
                append(UNCHANGED)
            else:
                raise DecodeError(f"unknown tuple column kind {chr(kind)!r}")
        self.pos = pos
        return tuple(values)

    def done(self) -> bool:
        return self.pos == len(self.buf)


def decode(data: bytes | memoryview) -> Message:
    """Decode one pgoutput message."""
    r = _Reader(data)
    if not r.buf:
        raise DecodeError("empty message")
    tag = r.byte()
    if tag == "B":
        msg: Message = Begin(final_lsn=r.uint64(), commit_time=pg_time(r.int64()), xid=r.uint32())
    elif tag == "C":
        msg = Commit(flags=r.int8(), commit_lsn=r.uint64(), end_lsn=r.uint64(), commit_time=pg_time(r.int64()))
    elif tag == "R":
        relid, namespace, name = r.uint32(), r.string(), r.string()
        identity = r.byte()
        columns = []
        for _ in range(r.int16()):
            flags = r.int8()
            columns.append(Column(name=r.string(), type_oid=r.uint32(), typmod=r.int32(), is_key=bool(flags & 1)))
        msg = Relation(relid, namespace, name, identity, tuple(columns))
    elif tag == "I":
        relid = r.uint32()
        if r.byte() != "N":
            raise DecodeError("Insert without new tuple")
        msg = Insert(relid, r.tuple_data())
    elif tag == "U":
        relid = r.uint32()
        kind = r.byte()
        old = old_kind = None
        if kind in ("K", "O"):
            old_kind, old = kind, r.tuple_data()
            kind = r.byte()
        if kind != "N":
            raise DecodeError(f"Update: expected new tuple, got {kind!r}")
        msg = Update(relid, new=r.tuple_data(), old=old, old_kind=old_kind)
    elif tag == "D":
        relid = r.uint32()
        kind = r.byte()
        if kind not in ("K", "O"):
            raise DecodeError(f"Delete: expected key or old tuple, got {kind!r}")
        msg = Delete(relid, old=r.tuple_data(), old_kind=kind)
    elif tag == "T":
        count = r.int32()
        options = r.int8()
        msg = Truncate(tuple(r.uint32() for _ in range(count)), bool(options & 1), bool(options & 2))
    elif tag == "O":
        msg = Origin(lsn=r.uint64(), name=r.string())
    elif tag == "Y":
        msg = TypeInfo(oid=r.uint32(), namespace=r.string(), name=r.string())
    elif tag == "M":
        transactional = bool(r.int8())
        lsn, prefix = r.uint64(), r.string()
        msg = LogicalMessage(transactional, lsn, prefix, r.raw(r.int32()))
    else:
        raise DecodeError(f"unknown pgoutput message tag {tag!r}")
    if not r.done():
        raise DecodeError(f"{len(r.buf) - r.pos} trailing bytes after {type(msg).__name__}")
    return msg


def relation_namespaces(messages: Iterable[bytes | memoryview]) -> set[str]:
    """The schemas named by the Relation messages among raw pgoutput messages (only those are decoded)."""
    found = set()
    for data in messages:
        if bytes(data[:1]) == b"R":
            found.add(decode(data).namespace)  # type: ignore[union-attr]
    return found


@dataclass
class Transaction:
    begin: Begin
    commit: Commit | None = None
    changes: list = None  # Insert | Update | Delete | Truncate, in order

    def __post_init__(self):
        if self.changes is None:
            self.changes = []

    @property
    def commit_lsn(self) -> int:
        return self.begin.final_lsn


ROW_CHANGES = (Insert, Update, Delete, Truncate)  # the messages that change rows


def relation_lookup(relations: dict[int, Relation]):
    """`relid -> Relation` over `relations` (kept current by the caller), refusing a change whose
    Relation message has not arrived."""

    def rel_of(relid: int) -> Relation:
        try:
            return relations[relid]
        except KeyError:
            raise DecodeError(f"change for relation {relid} before its Relation message") from None

    return rel_of


def check_begin(current, msg: Begin) -> None:
    """A Begin may only open a transaction when none is open (`current`: anything with a `.begin`)."""
    if current is not None:
        raise DecodeError(f"Begin of xid {msg.xid} inside xid {current.begin.xid}")


def check_commit(current, msg: Commit) -> None:
    """A Commit must close the open transaction, at the LSN its Begin announced."""
    if current is None:
        raise DecodeError("Commit without Begin")
    if msg.commit_lsn != current.begin.final_lsn:
        raise DecodeError(
            f"Commit LSN {lsn_to_str(msg.commit_lsn)} differs from Begin final LSN {lsn_to_str(current.begin.final_lsn)}"
        )


def check_in_transaction(current, msg) -> None:
    """A row change must lie inside a transaction."""
    if current is None:
        raise DecodeError(f"{type(msg).__name__} outside a transaction")


def group_transactions(messages, relations: dict[int, Relation]) -> tuple[list[Transaction], Transaction | None]:
    """Complete transactions in commit order, and the trailing incomplete one (None when the batch ends
    on a commit). Relation messages update `relations` in place, wherever they appear."""
    complete: list[Transaction] = []
    current: Transaction | None = None
    for msg in messages:
        if isinstance(msg, Begin):
            check_begin(current, msg)
            current = Transaction(begin=msg)
        elif isinstance(msg, Commit):
            check_commit(current, msg)
            current.commit = msg
            complete.append(current)
            current = None
        elif isinstance(msg, Relation):
            relations[msg.relid] = msg
        elif isinstance(msg, ROW_CHANGES):
            check_in_transaction(current, msg)
            current.changes.append(msg)
        # Origin, TypeInfo, LogicalMessage: nothing to apply
    return complete, current
