"""Twin snapshots: generic over the parts (nested dataclasses, lists of them); format 1 read."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from packline.sim_instruments.twin import (
    Face,
    PanelSpec,
    ResinKind,
    Support,
    WaferSpec,
    new_panel,
    new_wafer,
)
from packline.sim_instruments.twin import snapshot as snapshot_module
from packline.sim_instruments.twin.freezing import thaw
from packline.sim_instruments.twin.parts import (
    BumpKind,
    Film,
    FilmMaterial,
    StackLevel,
    Tone,
    WiringLevel,
)
from packline.sim_instruments.twin.snapshot import (
    Snapshots,
    Workpiece,
    array_paths,
    read_snapshot,
    snapshot,
)
from packline.sim_instruments.twin.workpiece import ProcessEvent
from packline.testing.twin import state_differences

FORMAT_1 = Path(__file__).parent / "data" / "format1.twin"


def test_every_part_round_trips_with_its_lists_and_enums():
    wafer = new_wafer("W01", WaferSpec(diameter_mm=100.0, pads_per_die_side=3))
    sites = wafer.geometry.site_count
    wafer.bumps.height_um[:] = 60.0
    wafer.bumps.kind, wafer.bumps.material = BumpKind.SOLDER, "Pb95Sn5"
    wafer.bumps.layer_alloy = "Sn63Pb37"
    wafer.bumps.solid_core[::2] = True
    _, openings = wafer.add_resin(ResinKind.THERMOSET, 45.0, cure=0.8, support=Support.FILM)
    openings.depth_um[:5] = 12.5
    wafer.add_resin(ResinKind.SOLDER_RESIST, 20.0, face=Face.BACK, cure=1.0)
    wafer.films.layers.append(Film.blanket(FilmMaterial.CU, 5.0, sites, level=1))
    level = WiringLevel.empty(sites)
    level.pattern[:] = wafer.geometry.site_unit
    wafer.wiring.levels.append(level)
    wafer.resist.tone, wafer.resist.baked = Tone.NEGATIVE, True
    wafer.resist.dose_mj_cm2[:] = 120.0
    wafer.balls.present[:4] = True
    wafer.balls.alloy = "SAC305"
    wafer.dies.unit = np.array([0, 1], np.int32)
    wafer.dies.offset_um = np.array([[1.5, -2.0], [0.0, 0.5]], np.float32)
    wafer.dies.thickness_um = np.full(2, 300.0, np.float32)
    wafer.dies.bonded = np.array([True, False])
    wafer.fill.volume_nl[:3] = 4.2
    wafer.finish.roughness_ra_um = 0.01
    wafer.singulation.kerfs_y_mm.extend([1.0, 11.0])
    wafer.record("bench", "everything", 1.0, parts=15)
    copy = read_snapshot(snapshot(wafer))
    assert state_differences(wafer, copy) == []
    assert copy.resins.layers[1].face is Face.BACK
    assert copy.films.layers[0].material is FilmMaterial.CU


def _with_header(data: bytes, edit: Callable[[dict[str, Any]], None]) -> bytes:
    """The snapshot `data` with its header's fields changed by `edit` (an older snapshot's
    header, or a spoilt one), the arrays after it as they were."""
    length = int.from_bytes(data[:8], "big")
    header = json.loads(data[8 : 8 + length])
    edit(header["fields"])
    body = json.dumps(header).encode()
    return len(body).to_bytes(8, "big") + body + data[8 + length :]


def _before_frames(fields: dict[str, Any]) -> None:
    """A wafer's fields as a snapshot from before balls' flux, paste and frames held them."""
    for name in ("flux_um", "offset_um", "extra"):
        del fields["balls"][name]
    del fields["bumps"]["paste_nl"]
    del fields["geometry"]["column"], fields["frame"]  # from before frames (000:x2)


def test_per_site_fields_an_older_snapshot_lacks_come_back_sized_and_empty():
    wafer = new_wafer("W01", WaferSpec(diameter_mm=100.0, pads_per_die_side=3))
    copy = read_snapshot(_with_header(snapshot(wafer), _before_frames))
    sites = wafer.geometry.site_count
    assert copy.balls.flux_um.shape == copy.balls.extra.shape == copy.bumps.paste_nl.shape
    assert copy.balls.flux_um.shape == (sites,)
    assert copy.balls.offset_um.shape == (sites, 2)
    assert copy.frame.column_top_um.shape == copy.geometry.column.shape == (sites,)
    assert copy.frame.offset_um.shape == (wafer.geometry.unit_count, 2)
    assert state_differences(wafer, copy) == []


def _before_area_arrays(fields: dict[str, Any]) -> None:
    """A panel's fields as a snapshot from before area arrays (000:x1) held them."""
    for name in ("land_array", "land_pitch_mm", "land_centre"):
        del fields["spec"][name]
    del fields["geometry"]["land"]


def test_a_panel_from_before_area_arrays_comes_back_a_panel_without_lands():
    """Its spec lacks the `land_*` fields PanelSpec has gained since: it is still read as
    the panel it was written from, not as the first member of `WaferSpec | PanelSpec`."""
    panel = new_panel("P01", PanelSpec(rows=2, columns=3))
    copy = read_snapshot(_with_header(snapshot(panel), _before_area_arrays))
    assert isinstance(copy.spec, PanelSpec)
    assert copy.spec.land_array == (0, 0)
    assert copy.geometry.land.shape == (panel.geometry.site_count,)
    assert not copy.geometry.land.any()
    assert state_differences(panel, copy) == []


def test_a_spec_whose_fields_fit_a_wafer_and_a_panel_alike_is_refused():
    """A spec of only the fields a wafer's and a panel's share (its seed) could be either:
    refused, naming both, not read as the first of the union that holds them."""

    def seed_only(fields: dict[str, Any]) -> None:
        fields["spec"] = {"seed": 1}

    data = _with_header(snapshot(new_wafer("W01", WaferSpec())), seed_only)
    with pytest.raises(ValueError, match=r"\['seed'\] fit WaferSpec and PanelSpec alike"):
        read_snapshot(data)


def test_a_panel_comes_back_as_a_panel():
    panel = new_panel("P01", PanelSpec(rows=2, columns=3))
    copy = read_snapshot(snapshot(panel))
    assert isinstance(copy.spec, PanelSpec)
    assert state_differences(panel, copy) == []


def test_a_format_1_snapshot_of_the_flat_wafer_is_read_into_the_parts():
    wafer = read_snapshot(FORMAT_1.read_bytes())
    fresh = new_wafer("OLD01", wafer.spec)
    assert state_differences(wafer.geometry, fresh.geometry) == ["workpiece.thickness_um"]
    assert wafer.geometry.thickness_um == 400.0
    np.testing.assert_allclose(wafer.bumps.height_um[[0, -1]], [55.0, 65.0])
    assert (wafer.bumps.kind, wafer.bumps.material) == (BumpKind.STUD, "Au")
    assert (wafer.bumps.stack == 2).all()
    (layer,) = wafer.resins.layers
    (openings,) = wafer.openings.layers
    assert (layer.kind, layer.support, layer.cure, layer.voids) == (
        ResinKind.THERMOSET,
        Support.FILM,
        0.0,
        0.001,
    )
    np.testing.assert_allclose(layer.thickness_um, 45.0)
    assert openings.depth_um[:4].tolist() == [10.0, 10.0, 10.0, 0.0]
    assert openings.open.tolist()[:3] == [False, True, False]
    assert wafer.surface.activated[::2].all()
    assert not wafer.surface.activated[1::2].any()
    assert wafer.finish.roughness_ra_um == 0.01
    assert (wafer.singulation.kerfs_x_mm, wafer.singulation.units) == ([0.0, 10.0], 1)
    assert wafer.operations() == ["stud bumping", "laminate"]
    assert state_differences(wafer, read_snapshot(snapshot(wafer))) == []  # now format 2


def test_an_unknown_format_is_refused():
    data = snapshot(new_wafer("W01", WaferSpec())).replace(b"packline-twin/2", b"packline-twin/9")
    with pytest.raises(ValueError, match="unknown format 'packline-twin/9'"):
        read_snapshot(data)


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12, dtype=np.float32).reshape(3, 4),
        np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        np.array(3.5),
        np.zeros((0, 5), np.int16),
        np.array([True, False]),
        np.arange(6, dtype=">i4"),
        np.array(["x", "yz"]),
    ],
    ids=["float32", "fortran", "0-d", "empty", "bool", "big-endian", "unicode"],
)
def test_an_array_is_read_back_as_np_load_reads_it_in_memory_of_its_own(array):
    """A snapshot's arrays are read from their `.npy` bytes by `npy_layout`, whose header
    reading is done once per header, as `np.load` would read them: the same values, dtype,
    shape and order, writable and apart from the snapshot's bytes."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    data = buffer.getvalue()
    loaded = snapshot_module._load_npy(memoryview(data))
    expected = np.load(io.BytesIO(data), allow_pickle=False)
    assert loaded.dtype == expected.dtype
    assert loaded.shape == expected.shape
    assert loaded.flags.f_contiguous == expected.flags.f_contiguous
    assert loaded.tobytes("A") == expected.tobytes("A")
    assert loaded.flags.writeable
    assert loaded.base is None
    assert snapshot_module.npy_layout(data).start == len(data) - array.nbytes


def test_an_array_of_python_objects_is_refused():
    header = snapshot_module._npy_header(np.dtype(np.float64), (2,), False)
    data = header.replace(b"'<f8'", b"'|O' ") + bytes(16)
    with pytest.raises(ValueError, match="no pickle"):
        snapshot_module._load_npy(memoryview(data))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def npy_spans(value: object) -> list[tuple[int, int]]:
    """The (offset, length) of every array a snapshot header's JSON refers to."""
    if isinstance(value, dict):
        if set(value) == {"npy"}:
            return [tuple(value["npy"])]
        return [span for item in value.values() for span in npy_spans(item)]
    if isinstance(value, list):
        return [span for item in value for span in npy_spans(item)]
    return []


def digest_of(data: bytes) -> str:
    """The records' digest of snapshot `data`, worked out from its bytes as decision 0056 says:
    the sha256 of the definition's name, the header and each array's sha256 (hex) in turn."""
    end = 8 + int.from_bytes(data[:8], "big")
    arrays = data[end:]
    spans = sorted(npy_spans(json.loads(data[8:end])))
    assert sum(length for _, length in spans) == len(arrays)
    parts = "".join(sha256(arrays[offset : offset + length]) for offset, length in spans)
    return sha256(b"packline-twin-digest/2\n" + data[:end] + parts.encode())


def made_wafer(wafer_id: str = "W01") -> Workpiece:
    """A small wafer with a history: a detail of each plain type."""
    wafer = new_wafer(wafer_id, WaferSpec(diameter_mm=100.0, pads_per_die_side=3))
    wafer.record("wire_bonder", "stud bumping", 1.0, bumps=1, zero=0.0, wire="Au")
    wafer.record("oven", "cure", 2.0)
    return wafer


def replace_event(wafer: Workpiece, index: int, **changed: Any) -> None:
    """Put an event like the history's `index`-th in its place, its fields and detail items
    `changed` (an event cannot change: a step that corrects one replaces it)."""
    event = wafer.history[index]
    detail = {**event.detail, **changed.pop("detail", {})}
    wafer.history[index] = dataclasses.replace(event, detail=detail, **changed)


def thin_in_place(wafer: Workpiece) -> None:
    thaw(wafer.surface.residue_nm)
    wafer.surface.residue_nm[17] -= 0.25  # the very array the last snapshot copied


def thin_through_a_view(wafer: Workpiece) -> None:
    thaw(wafer.bumps.height_um)
    wafer.bumps.height_um.reshape(-1)[-1:] += 1.0


def move_a_view_of_another_array(wafer: Workpiece) -> None:  # its memory the other's
    thaw(wafer.geometry.site_x_mm)
    wafer.geometry.site_x_mm[0] += 1.0


def move_through_the_array_a_view_is_of(wafer: Workpiece) -> None:  # not a part itself
    owner = wafer.geometry.site_y_mm.base
    assert isinstance(owner, np.ndarray)
    thaw(owner)
    owner.reshape(-1)[0] += 1.0


def replace_an_array(wafer: Workpiece) -> None:
    wafer.surface.oxide_nm = wafer.surface.oxide_nm + 1.0


def add_a_layer(wafer: Workpiece) -> None:  # more arrays: every later part moves along
    wafer.add_resin(ResinKind.THERMOSET, 45.0, cure=0.5)


def record_a_step(wafer: Workpiece) -> None:  # the header alone changes
    wafer.record("oven", "cure", 12.5, temperature_c=150.0)


def retype_a_detail(wafer: Workpiece) -> None:  # equal, but written 1.0, not 1
    replace_event(wafer, 0, detail={"bumps": 1.0})


def negate_a_zero(wafer: Workpiece) -> None:  # equal, but written -0.0
    replace_event(wafer, 0, detail={"zero": -0.0})


def retime_an_event(wafer: Workpiece) -> None:
    replace_event(wafer, 0, time_s=wafer.history[0].time_s + 0.5)


def drop_an_event(wafer: Workpiece) -> None:
    wafer.history.pop(0)


def insert_an_event(wafer: Workpiece) -> None:  # before the last: the events after it move
    wafer.history.insert(1, ProcessEvent("oven", "bake", 1.5, {"temperature_c": 90.0}))


def change_a_detail_of_an_event_before(wafer: Workpiece) -> None:
    replace_event(wafer, 0, detail={"wire": "Cu"})


def retype_a_part_value(wafer: Workpiece) -> None:  # equal, but written 0, not 0.0
    wafer.finish.roughness_ra_um = 0


def negate_a_part_zero(wafer: Workpiece) -> None:  # equal, but written -0.0
    wafer.singulation.cut_depth_um = -0.0


def retype_a_tuple_in_a_part(wafer: Workpiece) -> None:  # an equal tuple, written (10, 10)
    wafer.geometry.unit_size_mm = (10, 10)


def add_to_a_list_in_a_part(wafer: Workpiece) -> None:
    wafer.singulation.kerfs_y_mm.append(1.0)


def add_a_film(wafer: Workpiece) -> None:  # a dataclass more in a part's list
    wafer.films.layers.append(Film.blanket(FilmMaterial.CU, 5.0, wafer.geometry.site_count))


def change_an_enum(wafer: Workpiece) -> None:
    wafer.resist.tone = Tone.NEGATIVE


def reshape_an_array_in_place(wafer: Workpiece) -> None:  # its bytes where they were
    wafer.surface.oxide_nm.shape = (1, -1)


def lengthen_an_array_in_place(wafer: Workpiece) -> None:  # every later array moves along
    thaw(wafer.surface.oxide_nm)
    wafer.surface.oxide_nm.resize(wafer.geometry.site_count + 1, refcheck=False)


def replace_a_part(wafer: Workpiece) -> None:  # as a restore does, every part
    wafer.finish = dataclasses.replace(wafer.finish, roughness_ra_um=0.02)


def order_an_array_as_fortran(wafer: Workpiece) -> None:  # its bytes a copy, not its buffer
    wafer.balls.offset_um = np.asfortranarray(wafer.balls.offset_um + 0.5)


def write_the_balls_offsets(wafer: Workpiece) -> None:  # in place, Fortran-ordered or not
    thaw(wafer.balls.offset_um)
    wafer.balls.offset_um[-1, -1] += 0.25


def set_the_frames_metal(wafer: Workpiece) -> None:  # a part after the history
    wafer.frame.column_metal = "Cu"


def stack_a_level(wafer: Workpiece) -> None:  # a dataclass more in a part after the history
    wafer.stack.levels.append(StackLevel.empty("P01", wafer.geometry.site_count))


def write_a_frame_array(wafer: Workpiece) -> None:  # an array of a part after the history
    thaw(wafer.frame.column_top_um)
    wafer.frame.column_top_um[0] += 5.0


def retype_an_array_in_place(wafer: Workpiece) -> None:  # its bytes as they were
    wafer.surface.oxide_nm.dtype = np.dtype(np.int32)  # type: ignore[misc]


def replace_an_event_by_an_equal_one(wafer: Workpiece) -> None:  # the same bytes
    replace_event(wafer, 0)


def replace_an_array_by_an_equal_one(wafer: Workpiece) -> None:  # the same bytes
    wafer.surface.oxide_nm = wafer.surface.oxide_nm.copy()


def change_nothing(wafer: Workpiece) -> None:
    pass


CHANGES = [
    thin_in_place,
    thin_through_a_view,
    move_a_view_of_another_array,
    move_through_the_array_a_view_is_of,
    replace_an_array,
    add_a_layer,
    record_a_step,
    retype_a_detail,
    negate_a_zero,
    retime_an_event,
    drop_an_event,
    insert_an_event,
    change_a_detail_of_an_event_before,
    retype_a_part_value,
    negate_a_part_zero,
    retype_a_tuple_in_a_part,
    add_to_a_list_in_a_part,
    add_a_film,
    change_an_enum,
    reshape_an_array_in_place,
    lengthen_an_array_in_place,
    retype_an_array_in_place,
    order_an_array_as_fortran,
    write_the_balls_offsets,
    replace_a_part,
    set_the_frames_metal,
    stack_a_level,
    write_a_frame_array,
]
#: Changes of objects that leave the snapshot's bytes as they were.
SAME_BYTES = [replace_an_event_by_an_equal_one, replace_an_array_by_an_equal_one, change_nothing]


@pytest.mark.parametrize("change", [*CHANGES, *SAME_BYTES])
def test_a_taken_snapshot_is_the_snapshot_with_the_digests_of_its_bytes(
    change: Callable[[Workpiece], None],
):
    wafer = made_wafer()
    snapshots = Snapshots()
    for step in (change_nothing, change, change_nothing, change):
        step(wafer)
        taken = snapshots.take(wafer)
        assert taken.data == snapshot(wafer)
        assert taken.digest == digest_of(taken.data)
        assert taken.part_digests == tuple(sha256(part) for part in taken.parts)
        assert taken.paths == tuple(array_paths(taken.header))


@pytest.mark.parametrize("change", CHANGES)
def test_any_change_since_the_last_snapshot_changes_the_digest_and_undone_gives_it_back(
    change: Callable[[Workpiece], None],
):
    wafer, pristine = made_wafer(), made_wafer()
    snapshots = Snapshots()
    first = snapshots.take(wafer)
    assert snapshots.take(wafer) is first  # nothing changed: the last one, hashed once
    change(wafer)
    changed = snapshots.take(wafer)
    assert changed.digest not in (first.digest, digest_of(snapshot(pristine)))
    assert changed.digest == digest_of(snapshot(wafer))
    # the same bytes again (another wafer's twin, as the first was): the first's digests
    pristine_taken = snapshots.take(pristine)
    assert (pristine_taken.digest, pristine_taken.part_digests) == (
        first.digest,
        first.part_digests,
    )


def test_the_parts_after_an_array_that_grew_keep_their_texts_moved_along(monkeypatch):
    """Only the part whose array grew is written as JSON again: every part after it keeps its
    text, its arrays' offsets moved along."""
    wafer = made_wafer()
    snapshots = Snapshots()
    first = snapshots.take(wafer)
    json_of = snapshot_module._json
    written: list[object] = []

    def counted(value: object) -> str:
        written.append(value)
        return json_of(value)

    for grown in (1, 2):  # moved along, and moved along again from there
        thaw(wafer.surface.oxide_nm)
        wafer.surface.oxide_nm.resize(wafer.geometry.site_count + grown, refcheck=False)
        written.clear()
        with monkeypatch.context() as patched:
            patched.setattr(snapshot_module, "_json", counted)
            taken = snapshots.take(wafer)
        assert [set(value) for value in written] == [set(_field_names(wafer.surface))]
        assert taken.data == snapshot(wafer) != first.data
        assert taken.digest == digest_of(taken.data)
        assert taken.paths == tuple(array_paths(taken.header))


def test_the_parts_an_added_film_moved_along_are_compared_at_their_path_not_hashed_again(
    monkeypatch,
):
    """A film added puts every array after it at another place in the array section: each is
    compared with the last snapshot's part at its path and keeps its digest: only the film's
    own arrays are hashed."""
    wafer = made_wafer()
    snapshots = Snapshots()
    first = snapshots.take(wafer)
    add_a_film(wafer)
    hashed: list[bytes] = []
    hasher = hashlib.sha256

    def counted(data: bytes) -> object:
        hashed.append(data)
        return hasher(data)

    with monkeypatch.context() as patched:
        patched.setattr(snapshot_module.hashlib, "sha256", counted)
        taken = snapshots.take(wafer)
    kept = dict(zip(first.paths, first.parts, strict=True))
    film = [path for path in taken.paths if path not in kept]
    assert film
    assert all(path.startswith(".fields.films.layers[") for path in film)
    assert any(
        path in kept and first.paths[index : index + 1] != (path,)
        for index, path in enumerate(taken.paths)
    )  # parts moved along
    assert len(hashed) == len(film) + 1  # and the snapshot's digest
    assert taken.data == snapshot(wafer)
    assert taken.digest == digest_of(taken.data)
    assert taken.part_digests == tuple(sha256(part) for part in taken.parts)


def _field_names(value: object) -> list[str]:
    return [field.name for field in dataclasses.fields(value)]  # type: ignore[arg-type]


def test_a_part_text_is_cut_only_at_its_arrays_own_offsets():
    cut = snapshot_module._cut_at_offsets
    text = '{"a":{"npy":[10,5]},"b":[{"npy":[15,7]}],"c":"{\\"npy\\":[1,2]}"}'
    assert cut(text, 10, [5, 7]) == (
        '{"a":{"npy":[',
        ',5]},"b":[{"npy":[',
        ',7]}],"c":"{\\"npy\\":[1,2]}"}',
    )
    assert cut(text, 11, [5, 7]) is None  # not where its arrays are
    assert cut('{"a":{"npy":[10,5]},"d":{"npy":[15,7]}}', 10, [5]) is None  # a dict keyed npy


def test_a_forgotten_workpiece_is_hashed_whole_to_the_same_digests():
    wafer = new_wafer("W01", WaferSpec(diameter_mm=100.0, pads_per_die_side=3))
    snapshots = Snapshots()
    first = snapshots.take(wafer)
    snapshots.forget("W01")
    again = snapshots.take(wafer)
    assert again is not first
    assert (again.digest, again.parts) == (first.digest, first.parts)


def test_a_wafer_left_alone_is_not_encoded_again(monkeypatch):
    """Its parts' and history's texts are kept as they were: nothing of it is written as JSON
    again (so the tests above look at the texts kept, not only at texts written afresh)."""
    wafer = made_wafer()
    snapshots = Snapshots()
    first = snapshots.take(wafer)

    def refuse(value: object) -> str:
        raise AssertionError(f"written again: {value!r}")

    with monkeypatch.context() as patched:
        patched.setattr(snapshot_module, "_json", refuse)
        assert snapshots.take(wafer) is first
        thaw(wafer.bumps.height_um)
        wafer.bumps.height_um[3] += 1.0  # a change of bytes alone: every text is kept
        changed = snapshots.take(wafer)
    assert changed.data == snapshot(wafer)
    assert changed.digest == digest_of(changed.data) != first.digest


@pytest.mark.parametrize("change", CHANGES)
def test_a_wafer_left_alone_is_told_so_at_once_and_any_change_is_seen(monkeypatch, change):
    """A wafer of plain events left alone since its last snapshot is told so at once
    (`_Unchanged`): no part's or event's text is looked at. After any change it is not, and
    the change is in the snapshot."""
    wafer = made_wafer()
    snapshots = Snapshots()
    first = snapshots.take(wafer)

    def refuse(*_: object) -> str:
        raise AssertionError("the texts were looked at")

    with monkeypatch.context() as patched:
        patched.setattr(snapshot_module._HeaderText, "json", refuse)
        assert snapshots.take(wafer) is first
    change(wafer)
    taken = snapshots.take(wafer)
    assert taken.data == snapshot(wafer) != first.data
    assert taken.digest == digest_of(taken.data)
    assert snapshots.take(wafer) is taken


@pytest.mark.parametrize(
    "changes",
    itertools.permutations(CHANGES, 2),
    ids=lambda changes: "+".join(change.__name__ for change in changes),
)
def test_the_parts_two_changes_touch_are_told_at_once_and_both_are_seen(changes):
    """After a snapshot told at once (`_Unchanged`), which parts changes made since touch is
    told at once too (`_Unchanged.changed`: a list grown before a value replaced after it, a
    part replaced, an array laid out anew) and every other part keeps its text: two changes
    made together, or one after the other with a snapshot between, are in the snapshot."""
    together, apart = made_wafer("W01"), made_wafer("W02")
    snapshots = Snapshots()
    for wafer in (together, apart):
        first = snapshots.take(wafer)
        assert snapshots.take(wafer) is first  # told at once
    for change in changes:
        change(together)
    steps = [(together, change_nothing)] + [(apart, change) for change in changes]
    for wafer, change in steps:
        change(wafer)
        taken = snapshots.take(wafer)
        assert taken.data == snapshot(wafer)
        assert taken.digest == digest_of(taken.data)
        assert taken.paths == tuple(array_paths(taken.header))
        assert snapshots.take(wafer) is taken


def test_only_the_parts_a_step_changed_are_written_again(monkeypatch):
    """Which parts a step changed is told at once (`_Unchanged.changed`): those are written
    again, and every other keeps its text without being looked at one by one (the parts after
    a film added moved along)."""
    wafer = made_wafer()
    snapshots = Snapshots()
    snapshots.take(wafer)
    snapshots.take(wafer)
    written_as = snapshot_module._PartText.written.__func__  # type: ignore[attr-defined]
    holding = snapshot_module._PartText.holding
    written: list[str] = []
    held: list[tuple[str, bool]] = []

    def counted(cls: type, name: str, part: object, arrays: object) -> object:
        written.append(name)
        return written_as(cls, name, part, arrays)

    def told(text: Any, part: object, arrays: Any, told: bool = False) -> object:
        held.append((text.name, told))
        return holding(text, part, arrays, told)

    add_a_film(wafer)
    set_the_frames_metal(wafer)
    record_a_step(wafer)
    with monkeypatch.context() as patched:
        patched.setattr(snapshot_module._PartText, "written", classmethod(counted))
        patched.setattr(snapshot_module._PartText, "holding", told)
        taken = snapshots.take(wafer)
    assert sorted(written) == ["films", "frame"]
    others = [name for name in snapshot_module._PART_FIELDS if name not in written]
    assert held == [(name, True) for name in others]
    assert taken.data == snapshot(wafer)


def test_an_event_cannot_change_and_holds_plain_values_only():
    """What happened does not change, so the history's texts are kept by the events' identity
    alone: an event is frozen, its detail read-only; a detail that could change in place (a
    list) is refused as the event is made, naming it; a numpy scalar is taken as its value."""
    wafer = made_wafer()
    event = wafer.history[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.time_s = 3.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        event.detail["bumps"] = 2  # type: ignore[index]
    with pytest.raises(TypeError, match=r"oven cure: detail 'zones' is a list; an event holds"):
        wafer.record("oven", "cure", 3.0, zones=[150.0, 160.0])  # type: ignore[arg-type]
    assert len(wafer.history) == 2  # nothing recorded
    wafer.record("oven", "cure", np.float64(4.0), peak_c=np.float64(150.5), zones=np.int64(3))  # type: ignore[arg-type]
    last = wafer.history[-1]
    assert (type(last.time_s), type(last.detail["peak_c"]), type(last.detail["zones"])) == (
        float,
        float,
        int,
    )


def test_a_snapshot_freezes_the_arrays_it_took_until_a_step_thaws_them():
    """An array a snapshot took cannot be written in place (the write raises) until thawed;
    the array a view of it is of is frozen with it."""
    wafer = made_wafer()
    Snapshots().take(wafer)
    with pytest.raises(ValueError, match="read-only"):
        wafer.surface.residue_nm[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        np.minimum(wafer.bumps.height_um, 0.0, out=wafer.bumps.height_um)
    owner = wafer.geometry.site_x_mm.base
    assert isinstance(owner, np.ndarray)
    assert not owner.flags.writeable
    thaw(wafer.surface.residue_nm, wafer.geometry.site_x_mm)
    wafer.surface.residue_nm[0] = 1.0
    wafer.geometry.site_x_mm[0] = 1.0
    assert owner.flags.writeable


def test_an_array_still_frozen_is_kept_without_comparing_its_bytes():
    """An array that is the one the last snapshot froze, its memory still read-only, keeps
    that snapshot's part as it is: its bytes are not looked at (changed behind the freeze's
    back, by making it writable and read-only again, the change is not seen: what a step
    must never do)."""
    wafer = made_wafer()
    snapshots = Snapshots()
    first = snapshots.take(wafer)
    residue = wafer.surface.residue_nm
    residue.flags.writeable = True
    residue[0] += 1.0
    residue.flags.writeable = False
    assert snapshots.take(wafer) is first
    assert snapshot(wafer) != first.data
    thaw(residue)  # as a step writing it does: the next snapshot compares it
    assert snapshots.take(wafer).data == snapshot(wafer)


def test_an_array_still_frozen_that_moved_along_is_kept_without_comparing_its_bytes():
    """The same for an array that a film added before it moved to another place in the array
    section: the part at its path is kept as it is."""
    wafer = made_wafer()
    snapshots = Snapshots()
    first = snapshots.take(wafer)
    diameter = wafer.balls.diameter_um  # after the films: a film added moves it along
    diameter.flags.writeable = True
    diameter[0] += 1.0
    diameter.flags.writeable = False
    add_a_film(wafer)
    moved = snapshots.take(wafer)
    path = ".fields.balls.diameter_um"
    assert moved.paths.index(path) != first.paths.index(path)
    assert moved.parts[moved.paths.index(path)] is first.parts[first.paths.index(path)]
    assert moved.data != snapshot(wafer)
    thaw(diameter)
    assert snapshots.take(wafer).data == snapshot(wafer)


def test_a_view_made_before_a_snapshot_and_thawed_is_seen_when_written():
    """A writable view of a twin's array that a snapshot did not freeze (made before it) thaws
    the array it is a view of: written through, the next snapshot compares that array."""
    wafer = made_wafer()
    view = wafer.surface.residue_nm[:]
    snapshots = Snapshots()
    first = snapshots.take(wafer)
    thaw(view)
    view[0] += 1.0
    taken = snapshots.take(wafer)
    assert taken.data == snapshot(wafer) != first.data
