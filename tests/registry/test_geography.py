import json
from pathlib import Path

import httpx

from warroom_registry.directory import entries
from warroom_registry.geography import Geography
from warroom_registry.programme import ProgrammeScope


async def test_list_provinces_counts_77(registry: httpx.AsyncClient) -> None:
    r = await registry.get("/v1/provinces")
    assert r.status_code == 200
    provinces = r.json()
    assert len(provinces) == 77
    assert all(len(p["code"]) == 2 and isinstance(p["code"], str) for p in provinces)
    assert {"code": "10", "name_th": "กรุงเทพมหานคร", "name_en": "Bangkok"} in provinces


async def test_list_districts_counts_928_with_50_khet(registry: httpx.AsyncClient) -> None:
    districts = (await registry.get("/v1/districts")).json()
    assert len(districts) == 928
    kinds = [d["kind"] for d in districts]
    assert kinds.count("khet") == 50
    assert kinds.count("amphoe") == 878
    assert all(d["code"].startswith(d["province_code"]) for d in districts)
    bangkok = (await registry.get("/v1/districts", params={"province": "10"})).json()
    assert len(bangkok) == 50
    assert {d["kind"] for d in bangkok} == {"khet"}


async def test_subdistricts_total_7436_and_nest_in_districts(registry: httpx.AsyncClient) -> None:
    geo: Geography = registry._transport.app.state.geography  # type: ignore[attr-defined]
    assert len(geo.subdistricts) == 7436
    assert all(s.code[:4] == s.district_code for s in geo.subdistricts.values())
    assert set(s.district_code for s in geo.subdistricts.values()) == set(geo.districts)
    r = await registry.get("/v1/subdistricts", params={"district": "1001"})
    assert r.status_code == 200
    assert all(s["code"].startswith("1001") for s in r.json())
    assert len(r.json()) == len(geo.subdistricts_of("1001")) > 0


async def test_geography_matches_cross_check_copy(
    registry: httpx.AsyncClient, data_dir: Path
) -> None:
    provinces = {
        str(p["provinceCode"]): p for p in json.loads((data_dir / "provinces.json").read_text())
    }
    districts = {
        str(d["districtCode"]): d for d in json.loads((data_dir / "districts.json").read_text())
    }
    served_p = {p["code"]: p for p in (await registry.get("/v1/provinces")).json()}
    served_d = {d["code"]: d for d in (await registry.get("/v1/districts")).json()}
    assert served_p.keys() == provinces.keys()
    assert served_d.keys() == districts.keys()
    assert all(served_p[c]["name_th"] == p["provinceNameTh"] for c, p in provinces.items())
    # The copy drops the official "เขต" (khet) prefix of Bangkok's districts; geothai keeps it.
    assert all(
        served_d[c]["name_th"].removeprefix("เขต" if c.startswith("10") else "")
        == d["districtNameTh"]
        for c, d in districts.items()
    )
    # Defects recorded for the copy are corrected in what we serve.
    assert provinces["16"]["provinceNameEn"] == "Loburi"
    assert served_p["16"]["name_en"] != "Loburi"
    assert served_d["3801"]["name_en"].startswith("Mueang")
    assert all(d["name_en"] == d["name_en"].strip() for d in served_d.values())


async def test_get_province_and_district(registry: httpx.AsyncClient) -> None:
    r = await registry.get("/v1/provinces/10")
    assert r.json()["districts"] == 50
    r = await registry.get("/v1/districts/1001")
    assert r.status_code == 200
    assert r.json()["name_th"] == "เขตพระนคร"
    assert r.json()["kind"] == "khet"
    assert r.json()["subdistricts"] > 0


async def test_unknown_codes_answer_404(registry: httpx.AsyncClient) -> None:
    for path in ("/v1/provinces/99", "/v1/districts/1099", "/v1/districts?province=99",
                 "/v1/subdistricts?district=1099"):  # fmt: skip
        r = await registry.get(path)
        assert r.status_code == 404, path
        assert r.json()["error"]["code"].endswith("not_found")


async def test_malformed_codes_answer_422_with_field(registry: httpx.AsyncClient) -> None:
    r = await registry.get("/v1/districts/abcd")
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["field"] == "path.code"
    r = await registry.get("/v1/subdistricts")
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["field"] == "query.district"


async def test_reference_data_is_cacheable(registry: httpx.AsyncClient) -> None:
    r = await registry.get("/v1/provinces")
    etag = r.headers["ETag"]
    again = await registry.get("/v1/provinces", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = await registry.get("/v1/districts", headers={"If-None-Match": etag})
    assert other.status_code == 200


async def test_reference_lists_domain(registry: httpx.AsyncClient) -> None:
    ref = (await registry.get("/v1/reference")).json()
    assert len(ref["sectors"]) == 7
    assert len(ref["roles"]) == 10
    assert len(ref["stages"]) == 4
    assert len(ref["dimensions"]) == 8
    assert len(ref["programmes"]) == 2  # best-practice stories are shared, not reported
    chief = next(r for r in ref["roles"] if r["code"] == "district_chief")
    assert chief["th"] == "นายอำเภอ"
    assert chief["default_sector"] == "government"
    assert "media" not in {r["default_sector"] for r in ref["roles"]}


async def test_reference_labels_are_the_programmes_own(registry: httpx.AsyncClient) -> None:
    ref = (await registry.get("/v1/reference")).json()
    programmes = {p["code"]: p for p in ref["programmes"]}
    roles = {r["code"]: r for r in ref["roles"]}

    assert programmes.keys() == {"cast", "sustainable_village"}
    assert programmes["sustainable_village"]["th"] == "โครงการหมู่บ้านยั่งยืน (Sustainable Village)"
    assert programmes["cast"]["en"] == "Change Agent for Strategic Transformation"
    assert roles["local_administration"]["th"] == "ตัวแทนผู้นำองค์กรปกครองส่วนท้องถิ่นโดยตำแหน่ง"


async def test_directory_entries_cover_every_district(registry: httpx.AsyncClient) -> None:
    geo = registry._transport.app.state.geography  # type: ignore[attr-defined]
    directory = entries(geo, ProgrammeScope(), {})
    assert len(directory) == 928
    assert sum(len(e.subdistricts) for e in directory) == 7436
    assert sum(e.in_programme for e in directory) == 878
    assert sum(e.in_programme for e in entries(geo, ProgrammeScope(includes_khet=True), {})) == 928
