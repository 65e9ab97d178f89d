"""The directory's programme scope and designated villages follow what the registry publishes."""

from warroom_shared.directory import DistrictDirectory
from warroom_shared.events import DesignatedVillage, DirectoryDistrict


def entry(
    code: str, in_programme: bool = True, villages: dict[int, list[DesignatedVillage]] | None = None
) -> bytes:
    return DirectoryDistrict(
        code=code, province_code=code[:2], name_th="อำเภอ", name_en="Amphoe",
        province_name_th="จังหวัด", province_name_en="Province",
        kind="khet" if code.startswith("10") else "amphoe", subdistricts=[f"{code}01"],
        in_programme=in_programme, designated_villages=villages or {},
    ).model_dump_json().encode()  # fmt: skip


def test_in_programme_follows_the_scope_published() -> None:
    directory = DistrictDirectory()
    directory.apply("1001", entry("1001", in_programme=False))
    directory.apply("5001", entry("5001"))
    assert [d.code for d in directory.in_programme()] == ["5001"]

    directory.apply("1001", entry("1001", in_programme=True))  # an operator included the khet
    assert sorted(d.code for d in directory.in_programme()) == ["1001", "5001"]

    directory.apply("5001", None)
    assert [d.code for d in directory.in_programme()] == ["1001"]


def test_designated_follows_designations_changed_and_removed() -> None:
    directory = DistrictDirectory()
    village = DesignatedVillage(subdistrict_code="500101", village_no=3, name="บ้านหนองบัว")
    directory.apply("5001", entry("5001", villages={2569: [village]}))
    assert directory.designated("5001", 2569, "500101", 3)
    assert not directory.designated("5001", 2568, "500101", 3)
    assert not directory.designated("5001", 2569, "500101", 4)
    assert not directory.designated("5002", 2569, "500101", 3)

    moved = village.model_copy(update={"village_no": 4})
    directory.apply("5001", entry("5001", villages={2569: [moved]}))
    assert not directory.designated("5001", 2569, "500101", 3)
    assert directory.designated("5001", 2569, "500101", 4)

    directory.apply("5001", None)
    assert not directory.designated("5001", 2569, "500101", 4)
