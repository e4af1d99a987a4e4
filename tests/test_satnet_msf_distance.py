"""Grid distances of MSF members from their target (Case study 1, the paper's Figure 4)."""
import pytest

from nesy import satnet
from nesy.satnet import MSF


def _msf(target, indices, s_ref=0.8, alpha=0.9):
    return MSF(target=target, alpha=alpha, s_ref=s_ref, threshold=alpha * s_ref, indices=tuple(sorted(indices)),
               similarity=0.75, evaluations=3)


def test_member_distances_on_a_7x7_grid_by_hand():
    # target (3, 3) = 24; members (2, 2) = 16, (3, 4) = 25, (0, 3) = 3, (6, 0) = 42, (4, 6) = 34
    found = _msf(24, [16, 25, 3, 42, 34])
    assert found.indices == (3, 16, 25, 34, 42)
    assert satnet.member_distances(found, 7) == [3, 1, 1, 3, 3]


def test_member_distances_do_not_wrap_around_rows():
    # position 7 = (1, 0) is not a neighbour of 6 = (0, 6) although their indices are adjacent
    assert satnet.member_distances(_msf(6, [7, 5, 13]), 7) == [1, 6, 1]


@pytest.mark.parametrize("corner, neighbours, far", [
    (0, [1, 7, 8], {48: 6, 6: 6, 42: 6, 16: 2}),
    (6, [5, 12, 13], {0: 6, 42: 6, 48: 6, 18: 2}),
    (42, [35, 36, 43], {0: 6, 6: 6, 48: 6, 30: 2}),
    (48, [40, 41, 47], {0: 6, 6: 6, 42: 6, 32: 2}),
])
def test_corner_targets(corner, neighbours, far):
    assert satnet.member_distances(_msf(corner, neighbours), 7) == [1, 1, 1]
    found = _msf(corner, far)
    assert satnet.member_distances(found, 7) == [far[p] for p in found.indices]


def test_an_empty_msf_has_no_distances():
    empty = _msf(24, [])
    assert satnet.member_distances(empty, 7) == []
    (row,) = satnet.far_member_summary([empty], 7)
    assert row["size"] == 0 and row["max_distance"] is None and row["far_members"] == 0


def test_far_member_summary_rows():
    msfs = [_msf(24, [16, 17, 18, 23]), _msf(0, [1, 48, 16], s_ref=-0.1, alpha=0.95), _msf(10, [3, 22])]
    rows = satnet.far_member_summary(msfs, 7)
    assert [(r["target"], r["size"], r["max_distance"], r["far_members"]) for r in rows] == [
        (24, 4, 1, 0), (0, 3, 6, 2), (10, 2, 2, 1)]
    assert rows[1]["s_ref"] == -0.1 and rows[1]["alpha"] == 0.95
    # 10 = (1, 3): 3 = (0, 3) is a neighbour, 22 = (3, 1) two cells away; a wider "near" counts fewer far members
    assert [r["far_members"] for r in satnet.far_member_summary(msfs, 7, near=2)] == [0, 1, 0]
    # on a 5-wide grid the same positions are other cells: 24 = (4, 4), 16 = (3, 1), 23 = (4, 3)
    assert satnet.member_distances(msfs[0], 5) == [3, 2, 1, 1]


def test_bad_width_or_near_is_refused():
    with pytest.raises(ValueError, match="width"):
        satnet.member_distances(_msf(3, [1]), 0)
    with pytest.raises(ValueError, match="near"):
        satnet.far_member_summary([_msf(3, [1])], 7, near=-1)


def test_grid_distances_of_every_cell_from_the_centre_and_a_corner():
    # 7x7, centre 24 = (3, 3): 8 cells at 1, 16 at 2, 24 at 3
    centre = satnet.grid_distances(24, [p for p in range(49) if p != 24], 7)
    assert [centre.count(d) for d in range(1, 7)] == [8, 16, 24, 0, 0, 0]
    # corner 0: the ring at distance d has 2d + 1 cells
    corner = satnet.grid_distances(0, range(1, 49), 7)
    assert [corner.count(d) for d in range(1, 7)] == [3, 5, 7, 9, 11, 13]


def test_member_distance_histogram_counts_and_chance_by_hand():
    # 3x3 grid, centre target 4: all 8 other cells at distance 1, so chance puts everything at 1.
    near, far = satnet.member_distance_histogram([_msf(4, [0, 8])], 3, 3)  # distances 1 and 2
    assert near == {"distance": 1, "members": 2, "share of members": 1.0, "share of members by chance": 1.0,
                    "MSFs with their farthest member here": 1}
    assert far["members"] == 0 and far["share of members by chance"] == 0.0
    # corner target 0 of a 3x3 grid: cells 1, 3, 4 at distance 1, the other 5 at distance 2.
    rows = satnet.member_distance_histogram([_msf(0, [1, 8]), _msf(0, []), _msf(0, [3])], 3, 3)
    assert [r["members"] for r in rows] == [2, 1]
    assert [r["MSFs with their farthest member here"] for r in rows] == [1, 1]
    # chance: sizes 2 and 1 over 8 cells -> expected members at distance 1 = 3 * 3/8, at 2 = 3 * 5/8
    assert [r["share of members by chance"] for r in rows] == pytest.approx([3 / 8, 5 / 8])
    assert [r["share of members"] for r in rows] == pytest.approx([2 / 3, 1 / 3])


def test_member_distance_histogram_of_nothing_is_zeros():
    rows = satnet.member_distance_histogram([_msf(4, [])], 3, 3)
    assert rows == [{"distance": d, "members": 0, "share of members": 0.0, "share of members by chance": 0.0,
                     "MSFs with their farthest member here": 0} for d in (1, 2)]
