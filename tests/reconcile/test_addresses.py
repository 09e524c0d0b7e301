"""Russian addresses as people write them normalize to the same parts."""

from __future__ import annotations

import pytest

from core.addresses import (
    Address,
    flat_from_premise_id,
    normalize_address,
    normalize_cadastral,
    normalize_flat,
    normalize_guid,
    split_flat,
)

SIMBIRSK_44_2 = Address("симбирск", "моделируемая", "ул", "44", "", "", "2")


@pytest.mark.parametrize(
    "text",
    [
        "г. Симбирск, ул. Моделируемая, д. 44, кв. 2",
        "Симбирск г, Моделируемая ул, 44-2",
        "Симбирск г., Моделируемая ул., д.44, кв.2",
        "432000, Симбирская обл., г Симбирск, улица Моделируемая, дом 44, квартира 2",
        "г.Симбирск,ул.Моделируемая,д.44,кв.02",
        "Симбирск, Моделируемая улица, дом № 44 кв № 2",
        "г. Симбирск, ул. МОДЕЛИРУЕМАЯ, д. 44, кв. 2",
    ],
)
def test_variants_of_one_flat(text: str) -> None:
    assert normalize_address(text) == SIMBIRSK_44_2


@pytest.mark.parametrize(
    ("text", "house", "corpus", "building", "flat"),
    [
        ("г Санкт-Петербург, пр-кт Невский, д. 5, корп. 2, лит. А, кв. 7", "5а", "2", "", "7"),
        ("Санкт-Петербург, Невский проспект, 5к2А, кв.07", "5а", "2", "", "7"),
        ("Санкт-Петербург, Невский пр-т, д. 5А, к. 2, кв. 7", "5а", "2", "", "7"),
        ("Москва, ул. 8 Марта, д.10 стр.3", "10", "", "3", ""),
        ("Москва, ул. 8 Марта, д. 10, строение 3", "10", "", "3", ""),
        ("Ленина ул., д.4/2, пом. 1Н", "4/2", "", "", "1н"),
        ("ул. Ленина, д. 4 корп. 2А стр. 1 кв 3б", "4а", "2", "1", "3б"),
        ("ул Ленина 5-12", "5", "", "", "12"),
        ("Лесная ул, 1к2-5", "1", "2", "", "5"),
    ],
)
def test_house_parts(text: str, house: str, corpus: str, building: str, flat: str) -> None:
    a = normalize_address(text)
    assert (a.house, a.corpus, a.building, a.flat) == (house, corpus, building, flat)


def test_street_with_a_number_and_a_village() -> None:
    a = normalize_address("д Ивановка, ул. 2-я Линия, д 5")
    assert (a.city, a.street, a.street_type, a.house) == ("ивановка", "2 линия", "ул", "5")
    b = normalize_address("Москва, 8 Марта ул, 10")
    assert (b.street, b.house) == ("8 марта", "10")


def test_street_types_are_told_apart() -> None:
    assert normalize_address("ул. Ленина, 1").street_type == "ул"
    assert normalize_address("Ленина пр-кт, 1").street_type == "пр-кт"
    assert normalize_address("проспект Ленина, 1").street_type == "пр-кт"
    assert normalize_address("Ленина б-р, 1").street_type == "б-р"


def test_nothing_recognisable_gives_empty_parts() -> None:
    assert normalize_address("") == Address()
    assert normalize_address("   ,,, ") == Address()


@pytest.mark.parametrize(
    ("text", "flat"), [("кв. 02", "2"), ("12А", "12а"), ("пом. 1Н", "1н"), ("", ""), ("0", "0")]
)
def test_flats(text: str, flat: str) -> None:
    assert normalize_flat(text) == flat


def test_split_flat() -> None:
    assert split_flat("г. Симбирск, ул. Моделируемая, д. 44, кв. 2") == (
        "г. Симбирск, ул. Моделируемая, д. 44",
        "2",
    )
    assert split_flat("Симбирск, 44-2") == ("Симбирск, 44", "2")
    assert split_flat("Симбирск, Лесная ул, 1к2-05") == ("Симбирск, Лесная ул, 1к2", "5")
    assert split_flat("Садовая, 4/2") == ("Садовая, 4/2", "")


def test_codes() -> None:
    assert normalize_cadastral("Кадастровый № 73:24:041201:0123") == "73:24:41201:123"
    assert normalize_cadastral("73:24:41201:123") == "73:24:41201:123"
    assert normalize_cadastral("no number") is None
    guid = "5e5b2c1e-1b1e-4b7c-9b0b-1a2b3c4d5e6f"
    assert normalize_guid(guid.upper()) == guid
    assert normalize_guid(guid.replace("-", "")) == guid
    assert normalize_guid("12345") is None


@pytest.mark.parametrize(
    ("pid", "flat"), [("h01-012", "12"), ("h1-1", "1"), ("h01-shop", ""), ("p/15а", "15а")]
)
def test_flat_from_premise_id(pid: str, flat: str) -> None:
    assert flat_from_premise_id(pid) == flat


def test_no_street_type_is_not_a_guess() -> None:
    a = normalize_address("Симбирск, Моделируемая, 44-2")
    assert a == Address("симбирск", "моделируемая", "", "44", "", "", "2")
