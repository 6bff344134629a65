"""Unit tests of the pgoutput decoder on bytes captured from Postgres 18 (pg_logical_slot_peek_binary_changes,
proto_version 1). The capture ran, on tables p.t(id int PK, note text, body text) and p.c(id int PK,
tid int REFERENCES p.t ON DELETE CASCADE):
    BEGIN; INSERT INTO p.t VALUES (1, 'héllo', <3000 random letters>), (2, NULL, 'b'); INSERT INTO p.c VALUES (10, 1); COMMIT;
    UPDATE p.t SET note = 'x' WHERE id = 1;    -- body is TOASTed and unchanged: 'u'
    UPDATE p.t SET id = 3 WHERE id = 2;        -- key change: old key tuple 'K'
    DELETE FROM p.t WHERE id = 1;              -- cascades to p.c
    TRUNCATE p.c;
"""

from __future__ import annotations

import pytest

from assets.ingest.apply import ChangeSet, Target
from assets.ingest.pgoutput import (
    UNCHANGED,
    Begin,
    Commit,
    DecodeError,
    Delete,
    Insert,
    Relation,
    Truncate,
    Update,
    decode,
    group_transactions,
    lsn_from_str,
    lsn_to_str,
    relation_namespaces,
)

CAPTURED = [
    bytes.fromhex(
        "42000000001277fdd8000303ddad03429300000ce3"
    ),
    bytes.fromhex(
        "5200006e17700074006400030169640000000017ffffffff006e6f74650000000019ffffffff00626f64790000000019"
        "ffffffff"
    ),
    bytes.fromhex(
        "4900006e174e0003740000000131740000000668c3a96c6c6f7400000bb8694b5a57657168465743455079596e674662"
        "79424d575861534372555a6f4c677562626250496179526e425562486f5743464a6f776f526f57447362414a50676c4f"
        "55736856765554474247516d74734c46477a4c634570565a7a41516c784a53585256786643514767586b487a78465562"
        "456374544e4c4c7a506b6b476f61586d494a6f7a47774b774472514a4d5561795956475a6948584a6e426445784b4a6d"
        "4741467741776149494e594e76444d625a6f4f6c4a4c6c665a4a5a71635265666243615757727072685a4e6c7773656b"
        "6b71486b51725054734453754645686274797641596d71677155476e4d42626f627a6a63556b4354475242496f4f5a53"
        "48436f4850627a524b5a75514f42645674696e647465657474566b414b7169614a634c6e4b446b58544e4763796d7767"
        "6e4b52424c6d4667517973474662754e7a73626b6d755a4b596976426e725267794a7752494658497065556366696b6b"
        "496e7257764d47717876766873704d585446694c4a58677563416579596a6976684e4c5979654b4a6f4b667278734b49"
        "68447267596373614e516166416859636d70594c416b68436b52706b566742795a49734a71544575676e507563626159"
        "73554d75437a757a6565754d4468716e594e584953455177716c496e746d7078667266574366504b50766f797463756c"
        "75594c74707667494e4c5a4d66706f625a707a65724a655565624f617357597746456a67475859756547516c6c586a6a"
        "75746754474d73696e6a49556358754e5a524a56536e6c7442496b6454517071586552435a424a7149434944617a766b"
        "7146625950414b626453774c694c696971727a4b7a6c4e666f46616c4875475043524f556f70754652456f5441764a4e"
        "555072506f6465574750786b4758596e747453744a786b535356444d66684d474b796c6a71426e4b5557596446527a54"
        "4f7779476b49556348665a714f6772566669584e515253664370795a427a6b7543694e466e68424d4941685173727079"
        "564a616d48434c62624f4d70716e6c736a496d72744c57715243595a6b4977464168586e4b796e735a675a62684b5661"
        "497352575550696547784b5a744247527757487561684354437774497a765955524b46685079796e4a61724f4d555655"
        "476d444d4841565474536b434e51486d78486152794c427a764e4c555356654656704f50734f6241554f6a4f587a5972"
        "6c5865584d6177715a54415249746a4471466b444763724767564c426577655143626b47546b53667a4f53724d746e48"
        "6e70767265655348517844474a56646b745056544a72774e566f7a4a7a6c4559714e76546f714e547051624e7a754257"
        "7059726d654f556b4c434c556a4d7144486b69586954437874577a7068546e54527465676f7a7546676c63645a4d6257"
        "6e5263465448554e43765172684e536c676f7a6f464379576b6f7073444a4c796e43547176464c686e6663615a614575"
        "794c736d7a6b57506a596261796a5149644b797169664450746163496448696372586842666d62464f695672526d5143"
        "79764f7271504f7070644c594c6c77424d534a4f4864774a41496d54494251655472564e555765716c676a646e426364"
        "4f66474547786775636949634351697a5754436256487266715a75667463796455717556697159795a68527467427047"
        "4a6e767647597a4c4567695043484a554c5348496273566b6d78794875674177694b6563745a50497541747577727556"
        "5648476148686a75557559754b6543724544785679664c5a64696448464b715970534b5676785a50787a74444d764947"
        "6b626a71526f4b69686c5841554e645a6749527254676e71654f4b48506665596e506c4742624c7846545a736f6d4d46"
        "7042435278496d5a45556571416d61564958794746657a4e47594c4c42637744616d7453535061496874475675584950"
        "4b4a7348414948414d4f4c7443746947434c694a586b714f614256514b6378417a735157516266666179724472595978"
        "4f5645587679445a6845776a416a626c7178694c59734171477356415372427658466e54467a54426665696e6a6f5562"
        "67716a4558677a50556c6166424e644a6e494277645067564a52415156687152726c455a595464596e52506679685143"
        "735247467a684d45676a794e536d6b487141564973464f5a496e59574e7646676157555177547264494f437457676f47"
        "72725470416a69716d414a4f4d64494d476a41727245537472466e46784d4570766c4d576c564c5343496a6447754853"
        "6950575a6e754e46457668696953716f664f4953644b6c52686f4b6d474b51744275615862744e6f66566f72524f7672"
        "4d55487962687677696871586a524b637765665567747570724864786266697a78554f53706752767261477568775a59"
        "5055694d727a66524b4e5548454b41497a746f4f744a69644d47686c706e42724962714972487145697a546756786550"
        "4978494a5a5547524c624e744352696a654c6a526e455a587678736b6a5979437a684d6a727351525a4f4d6149615069"
        "79564a67446258424d52427278417a4d446467455863505453615a63684c69484757774a72594b50775a4553705a4e70"
        "674a776b685863547542557771514f58644e42417977735776435a53704f4e486a64765268476c49504f46765754684c"
        "62456e794f6c7a546f67707676517059524456457846505851556d42437a49684b4672696a617941675a6250656c4458"
        "7951475a736a6a48677162447a5a4f5456596f49537a61495a70426b516c7651706558494a6b6c794c62476e42705963"
        "48556d5347534e504965707a5844684b506479664a67504563487058616274447255416b4d694a547558494f43475a41"
        "4a6b537a53795a6d4672786a714b726c58554e665578766a7171717779724b44616a69716f6d655a4c494e6d49425470"
        "4b694a447a546d664f656a59516462567a794152694c4d6952494965707969736d51557a77566c6f74546a7746497366"
        "47746e544462735a5a4e4c674e785743714e646459756b5a694f6768424f4c70566e47477a68546e79514869544c7155"
        "6154685a6d574b795145494e6f72634f6b51514a476f41725851417a72466751696c4a62445763466e7a554976706765"
        "52566342436d6c4d476d477948786d6f78514c575865766444634e6c6a7345634c47654b7a667a59474b50747a727745"
        "644a456242744c5675596a4d4c4a72654d59595878417a4859624b4c68634b486167767678574a634f784c65464f6649"
        "4376475a49616b75786e6a4c6a4c677a7547417876714d78635465584f705971577a4a734b594e6665546b7241666973"
        "4a555071706e6772554564564774595a6e49654a75767348696343785a5663627541566b4a63544c53514f48426c6d6f"
        "684c694c47685572446d59647844764e55776f4f616146636b714a63616f5766486c63486d6e437370464778757a5065"
        "6d4d6c6d524e744c424e457862466267514f4b514e42544c76766550416d53475a464d4b514a47454d52564b58434d45"
        "6b725248744b575a7a4d49717174614d5763594444776f47436e534576534f6a79426450687759617157495664747961"
        "7576744c59646e5466766851506569585373414d766f625053536c57585747564b50787473794148445a656d416f4d63"
        "4e704f6f70547a796e4e6a5574565578615454527443466b526a6278424a765a4746754d684c50735a4a517242617457"
        "664f4668476f4d565056714278596f64674d4747476b697364656e615264425554626564616349767659624e614a6e45"
        "6d72734c4a48716f6c6e7a64704a53436376754168624b6c474f66576c6e6f6c745a67645975556a65436a6f63567377"
        "644c66436d596f516c68646d6456556866595a566f73547148427055635571576d7577774457514e7952796642704676"
        "6c4d50687065585a4272497476577841447877757a4547627869746b744b694a54556a6b44504f6a696b664e71707750"
        "756b72457465426a4a7743676a527565526c45496363556d50775678477759474f5a51787650686c7963724e545a6e64"
        "7074754b7a707858646f73534b616d67696f7847726a6b6f65744b4747494d495942434c47456c47776d425a65726e6f"
        "576a69586e62"
    ),
    bytes.fromhex(
        "4900006e174e00037400000001326e740000000162"
    ),
    bytes.fromhex(
        "5200006e1f700063006400020169640000000017ffffffff007469640000000017ffffffff"
    ),
    bytes.fromhex(
        "4900006e1f4e000274000000023130740000000131"
    ),
    bytes.fromhex(
        "4300000000001277fdd8000000001277fe08000303ddad034293"
    ),
    bytes.fromhex(
        "42000000001277fea0000303ddad035c6400000ce4"
    ),
    bytes.fromhex(
        "5500006e174e000374000000013174000000017875"
    ),
    bytes.fromhex(
        "4300000000001277fea0000000001277fed0000303ddad035c64"
    ),
    bytes.fromhex(
        "42000000001277ff68000303ddad037c8700000ce5"
    ),
    bytes.fromhex(
        "5500006e174b00037400000001326e6e4e00037400000001336e740000000162"
    ),
    bytes.fromhex(
        "4300000000001277ff68000000001277ff98000303ddad037c87"
    ),
    bytes.fromhex(
        "4200000000127800a0000303ddad038c0b00000ce6"
    ),
    bytes.fromhex(
        "4400006e174b00037400000001316e6e"
    ),
    bytes.fromhex(
        "4400006e1f4b0002740000000231306e"
    ),
    bytes.fromhex(
        "430000000000127800a000000000127800d0000303ddad038c0b"
    ),
    bytes.fromhex(
        "420000000012780698000303ddad03bbad00000ce7"
    ),
    bytes.fromhex(
        "5200006e1f700063006400020169640000000017ffffffff007469640000000017ffffffff"
    ),
    bytes.fromhex(
        "54000000010000006e1f"
    ),
    bytes.fromhex(
        "430000000000127806980000000012780768000303ddad03bbad"
    ),
]


def test_begin_and_commit_carry_matching_lsns_and_times():
    begin, commit = decode(CAPTURED[0]), decode(CAPTURED[6])
    assert isinstance(begin, Begin) and isinstance(commit, Commit)
    assert begin.final_lsn == commit.commit_lsn
    assert commit.end_lsn > commit.commit_lsn
    assert begin.commit_time == commit.commit_time
    assert begin.commit_time.year >= 2024 and begin.xid > 0


def test_relation_message():
    rel = decode(CAPTURED[1])
    assert isinstance(rel, Relation)
    assert (rel.namespace, rel.name, rel.replica_identity) == ("p", "t", "d")
    assert rel.column_names == ("id", "note", "body")
    assert [c.is_key for c in rel.columns] == [True, False, False]
    assert [c.type_oid for c in rel.columns] == [23, 25, 25]  # int4, text, text


def test_relation_namespaces_reads_only_the_relation_messages():
    assert relation_namespaces(CAPTURED) == {"p"}
    assert relation_namespaces(memoryview(m) for m in CAPTURED[2:4]) == set()
    with pytest.raises(DecodeError):
        relation_namespaces([CAPTURED[1][:-3]])  # a cut Relation is an error, not a guess


def test_insert_with_utf8_and_null():
    first, second = decode(CAPTURED[2]), decode(CAPTURED[3])
    assert isinstance(first, Insert)
    assert first.new[0] == "1" and first.new[1] == "héllo" and len(first.new[2]) == 3000
    assert second.new == ("2", None, "b")


def test_update_with_unchanged_toast_and_key_change():
    toast = decode(CAPTURED[8])
    assert isinstance(toast, Update) and toast.old is None
    assert toast.new == ("1", "x", UNCHANGED)
    moved = decode(CAPTURED[11])
    assert moved.old_kind == "K" and moved.old == ("2", None, None)
    assert moved.new == ("3", None, "b")


def test_delete_and_cascade_and_truncate():
    parent, child = decode(CAPTURED[14]), decode(CAPTURED[15])
    assert isinstance(parent, Delete) and parent.old_kind == "K" and parent.old[0] == "1"
    assert isinstance(child, Delete) and child.old == ("10", None)
    truncate = decode(CAPTURED[19])
    assert isinstance(truncate, Truncate) and len(truncate.relids) == 1
    assert truncate.relids[0] == decode(CAPTURED[18]).relid


def test_group_transactions_and_incomplete_tail():
    relations: dict = {}
    messages = [decode(m) for m in CAPTURED]
    complete, tail = group_transactions(messages, relations)
    assert tail is None
    assert [len(t.changes) for t in complete] == [3, 1, 1, 2, 1]
    assert {r.name for r in relations.values()} == {"t", "c"}
    assert all(a.commit_lsn < b.commit_lsn for a, b in zip(complete, complete[1:]))
    complete, tail = group_transactions(messages[:-1], {})
    assert len(complete) == 4 and tail is not None and len(tail.changes) == 1


def test_changeset_folds_to_final_state():
    relations: dict = {}
    complete, _ = group_transactions([decode(m) for m in CAPTURED[:-4]], relations)
    targets = {"p.t": Target("p", "t", ("id",), ("id", "note", "body")), "p.c": Target("p", "c", ("id",), ("id", "tid"))}
    changes = ChangeSet(targets=targets)
    for txn in complete:
        for change in txn.changes:
            changes.add(change, relations.__getitem__, lsn_to_str(txn.commit_lsn))
    t_ops = changes.ops["p.t"]
    assert t_ops[("1",)].kind == "delete"  # inserted, patched, deleted
    assert t_ops[("2",)].kind == "delete"  # key moved away
    assert t_ops[("3",)].kind == "upsert" and t_ops[("3",)].values == {"id": "3", "note": None, "body": "b"}
    assert changes.ops["p.c"][("10",)].kind == "delete"
    counts = changes.counts["p.t"]
    assert (counts.inserted, counts.updated, counts.deleted) == (2, 2, 1)


def test_patch_merges_into_pending_upsert():
    relations: dict = {}
    messages = [decode(m) for m in CAPTURED[:10]]
    complete, _ = group_transactions(messages, relations)
    changes = ChangeSet(targets={"p.t": Target("p", "t", ("id",), ("id", "note", "body"))})
    for txn in complete:
        for change in txn.changes:
            changes.add(change, relations.__getitem__, lsn_to_str(txn.commit_lsn))
    op = changes.ops["p.t"][("1",)]
    assert op.kind == "upsert" and op.values["note"] == "x" and len(op.values["body"]) == 3000
    # Alone (the insert applied in an earlier batch), the same update is a patch of the present columns.
    alone = ChangeSet(targets=changes.targets)
    alone.add(decode(CAPTURED[8]), relations.__getitem__, "0/1")
    assert alone.ops["p.t"][("1",)].kind == "patch" and alone.ops["p.t"][("1",)].values == {"id": "1", "note": "x"}


def test_lsn_text_round_trip_and_errors():
    assert lsn_to_str(lsn_from_str("16/B374D848")) == "16/B374D848"
    assert lsn_from_str("0/10") == 16
    with pytest.raises(DecodeError):
        decode(CAPTURED[2][:-3])  # truncated value
    with pytest.raises(DecodeError):
        decode(b"Z\x00")
    with pytest.raises(DecodeError):
        decode(CAPTURED[0] + b"\x00")  # trailing bytes
