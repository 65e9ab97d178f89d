"""The district directory's lookups follow every change the registry publishes."""

from warroom_shared.directory import DistrictDirectory
from warroom_shared.events import DirectoryDistrict


def entry(code: str) -> bytes:
    return DirectoryDistrict(
        code=code, province_code=code[:2], name_th="เขต", name_en="Khet", province_name_th="กรุงเทพ",
        province_name_en="Bangkok", kind="khet", subdistricts=[f"{code}01"],
    ).model_dump_json().encode()  # fmt: skip


def test_in_province_follows_districts_added_and_removed() -> None:
    directory = DistrictDirectory()
    directory.apply("1001", entry("1001"))
    assert [d.code for d in directory.in_province("10")] == ["1001"]

    directory.apply("1002", entry("1002"))
    directory.apply("5001", entry("5001"))
    assert [d.code for d in directory.in_province("10")] == ["1001", "1002"]
    assert [d.code for d in directory.in_province("50")] == ["5001"]

    directory.apply("1001", None)
    assert [d.code for d in directory.in_province("10")] == ["1002"]
    assert directory.in_province("96") == []
