"""The pledge data model: countries, organisations, pledges, endorsements, money, progress.

Currencies are seeded here, as ISO 4217 stood when this revision was written (the rows are
frozen in this file, so running it again later gives the same database), so that every
currency column refuses unknown codes from the first revision on.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.types

CURRENCIES = [
    ("AED", "784", 2, "UAE Dirham"),
    ("AFN", "971", 2, "Afghani"),
    ("ALL", "008", 2, "Lek"),
    ("AMD", "051", 2, "Armenian Dram"),
    ("AOA", "973", 2, "Kwanza"),
    ("ARS", "032", 2, "Argentine Peso"),
    ("AUD", "036", 2, "Australian Dollar"),
    ("AWG", "533", 2, "Aruban Florin"),
    ("AZN", "944", 2, "Azerbaijan Manat"),
    ("BAM", "977", 2, "Convertible Mark"),
    ("BBD", "052", 2, "Barbados Dollar"),
    ("BDT", "050", 2, "Taka"),
    ("BHD", "048", 3, "Bahraini Dinar"),
    ("BIF", "108", 0, "Burundi Franc"),
    ("BMD", "060", 2, "Bermudian Dollar"),
    ("BND", "096", 2, "Brunei Dollar"),
    ("BOB", "068", 2, "Boliviano"),
    ("BRL", "986", 2, "Brazilian Real"),
    ("BSD", "044", 2, "Bahamian Dollar"),
    ("BTN", "064", 2, "Ngultrum"),
    ("BWP", "072", 2, "Pula"),
    ("BYN", "933", 2, "Belarusian Ruble"),
    ("BZD", "084", 2, "Belize Dollar"),
    ("CAD", "124", 2, "Canadian Dollar"),
    ("CDF", "976", 2, "Congolese Franc"),
    ("CHF", "756", 2, "Swiss Franc"),
    ("CLP", "152", 0, "Chilean Peso"),
    ("CNY", "156", 2, "Yuan Renminbi"),
    ("COP", "170", 2, "Colombian Peso"),
    ("CRC", "188", 2, "Costa Rican Colon"),
    ("CUP", "192", 2, "Cuban Peso"),
    ("CVE", "132", 2, "Cabo Verde Escudo"),
    ("CZK", "203", 2, "Czech Koruna"),
    ("DJF", "262", 0, "Djibouti Franc"),
    ("DKK", "208", 2, "Danish Krone"),
    ("DOP", "214", 2, "Dominican Peso"),
    ("DZD", "012", 2, "Algerian Dinar"),
    ("EGP", "818", 2, "Egyptian Pound"),
    ("ERN", "232", 2, "Nakfa"),
    ("ETB", "230", 2, "Ethiopian Birr"),
    ("EUR", "978", 2, "Euro"),
    ("FJD", "242", 2, "Fiji Dollar"),
    ("FKP", "238", 2, "Falkland Islands Pound"),
    ("GBP", "826", 2, "Pound Sterling"),
    ("GEL", "981", 2, "Lari"),
    ("GHS", "936", 2, "Ghana Cedi"),
    ("GIP", "292", 2, "Gibraltar Pound"),
    ("GMD", "270", 2, "Dalasi"),
    ("GNF", "324", 0, "Guinean Franc"),
    ("GTQ", "320", 2, "Quetzal"),
    ("GYD", "328", 2, "Guyana Dollar"),
    ("HKD", "344", 2, "Hong Kong Dollar"),
    ("HNL", "340", 2, "Lempira"),
    ("HTG", "332", 2, "Gourde"),
    ("HUF", "348", 2, "Forint"),
    ("IDR", "360", 2, "Rupiah"),
    ("ILS", "376", 2, "New Israeli Sheqel"),
    ("INR", "356", 2, "Indian Rupee"),
    ("IQD", "368", 3, "Iraqi Dinar"),
    ("IRR", "364", 2, "Iranian Rial"),
    ("ISK", "352", 0, "Iceland Krona"),
    ("JMD", "388", 2, "Jamaican Dollar"),
    ("JOD", "400", 3, "Jordanian Dinar"),
    ("JPY", "392", 0, "Yen"),
    ("KES", "404", 2, "Kenyan Shilling"),
    ("KGS", "417", 2, "Som"),
    ("KHR", "116", 2, "Riel"),
    ("KMF", "174", 0, "Comorian Franc"),
    ("KPW", "408", 2, "North Korean Won"),
    ("KRW", "410", 0, "Won"),
    ("KWD", "414", 3, "Kuwaiti Dinar"),
    ("KYD", "136", 2, "Cayman Islands Dollar"),
    ("KZT", "398", 2, "Tenge"),
    ("LAK", "418", 2, "Lao Kip"),
    ("LBP", "422", 2, "Lebanese Pound"),
    ("LKR", "144", 2, "Sri Lanka Rupee"),
    ("LRD", "430", 2, "Liberian Dollar"),
    ("LSL", "426", 2, "Loti"),
    ("LYD", "434", 3, "Libyan Dinar"),
    ("MAD", "504", 2, "Moroccan Dirham"),
    ("MDL", "498", 2, "Moldovan Leu"),
    ("MGA", "969", 2, "Malagasy Ariary"),
    ("MKD", "807", 2, "Denar"),
    ("MMK", "104", 2, "Kyat"),
    ("MNT", "496", 2, "Tugrik"),
    ("MOP", "446", 2, "Pataca"),
    ("MRU", "929", 2, "Ouguiya"),
    ("MUR", "480", 2, "Mauritius Rupee"),
    ("MVR", "462", 2, "Rufiyaa"),
    ("MWK", "454", 2, "Malawi Kwacha"),
    ("MXN", "484", 2, "Mexican Peso"),
    ("MYR", "458", 2, "Malaysian Ringgit"),
    ("MZN", "943", 2, "Mozambique Metical"),
    ("NAD", "516", 2, "Namibia Dollar"),
    ("NGN", "566", 2, "Naira"),
    ("NIO", "558", 2, "Cordoba Oro"),
    ("NOK", "578", 2, "Norwegian Krone"),
    ("NPR", "524", 2, "Nepalese Rupee"),
    ("NZD", "554", 2, "New Zealand Dollar"),
    ("OMR", "512", 3, "Rial Omani"),
    ("PAB", "590", 2, "Balboa"),
    ("PEN", "604", 2, "Sol"),
    ("PGK", "598", 2, "Kina"),
    ("PHP", "608", 2, "Philippine Peso"),
    ("PKR", "586", 2, "Pakistan Rupee"),
    ("PLN", "985", 2, "Zloty"),
    ("PYG", "600", 0, "Guarani"),
    ("QAR", "634", 2, "Qatari Rial"),
    ("RON", "946", 2, "Romanian Leu"),
    ("RSD", "941", 2, "Serbian Dinar"),
    ("RUB", "643", 2, "Russian Ruble"),
    ("RWF", "646", 0, "Rwanda Franc"),
    ("SAR", "682", 2, "Saudi Riyal"),
    ("SBD", "090", 2, "Solomon Islands Dollar"),
    ("SCR", "690", 2, "Seychelles Rupee"),
    ("SDG", "938", 2, "Sudanese Pound"),
    ("SEK", "752", 2, "Swedish Krona"),
    ("SGD", "702", 2, "Singapore Dollar"),
    ("SHP", "654", 2, "Saint Helena Pound"),
    ("SLE", "925", 2, "Leone"),
    ("SOS", "706", 2, "Somali Shilling"),
    ("SRD", "968", 2, "Surinam Dollar"),
    ("SSP", "728", 2, "South Sudanese Pound"),
    ("STN", "930", 2, "Dobra"),
    ("SVC", "222", 2, "El Salvador Colon"),
    ("SYP", "760", 2, "Syrian Pound"),
    ("SZL", "748", 2, "Lilangeni"),
    ("THB", "764", 2, "Baht"),
    ("TJS", "972", 2, "Somoni"),
    ("TMT", "934", 2, "Turkmenistan New Manat"),
    ("TND", "788", 3, "Tunisian Dinar"),
    ("TOP", "776", 2, "Pa’anga"),
    ("TTD", "780", 2, "Trinidad and Tobago Dollar"),
    ("TWD", "901", 2, "New Taiwan Dollar"),
    ("TZS", "834", 2, "Tanzanian Shilling"),
    ("UAH", "980", 2, "Hryvnia"),
    ("UGX", "800", 0, "Uganda Shilling"),
    ("USD", "840", 2, "US Dollar"),
    ("UYU", "858", 2, "Peso Uruguayo"),
    ("UYW", "927", 4, "Unidad Previsional"),
    ("UZS", "860", 2, "Uzbekistan Sum"),
    ("VED", "926", 2, "Bolívar Soberano"),
    ("VES", "928", 2, "Bolívar Soberano"),
    ("VND", "704", 0, "Dong"),
    ("VUV", "548", 0, "Vatu"),
    ("WST", "882", 2, "Tala"),
    ("XAF", "950", 0, "CFA Franc BEAC"),
    ("XCD", "951", 2, "East Caribbean Dollar"),
    ("XCG", "532", 2, "Caribbean Guilder"),
    ("XOF", "952", 0, "CFA Franc BCEAO"),
    ("XPF", "953", 0, "CFP Franc"),
    ("YER", "886", 2, "Yemeni Rial"),
    ("ZAR", "710", 2, "Rand"),
    ("ZMW", "967", 2, "Zambian Kwacha"),
    ("ZWG", "924", 2, "Zimbabwe Gold"),
]
"""ISO 4217 code, numeric code, exponent and name of each currency in use."""

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "countries",
        sa.Column("alpha3", sa.String(length=3), nullable=False),
        sa.Column("alpha2", sa.String(length=2), nullable=False),
        sa.Column("numeric", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_fr", sa.String(length=200), nullable=False),
        sa.Column("name_es", sa.String(length=200), nullable=False),
        sa.Column("name_ru", sa.String(length=200), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_ar", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=3), nullable=True),
        sa.Column("region_name", sa.String(length=100), nullable=True),
        sa.Column("sub_region_code", sa.String(length=3), nullable=True),
        sa.Column("sub_region_name", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "length(alpha2) = 2 AND alpha2 = upper(alpha2)", name=op.f("ck_countries_alpha2_format")
        ),
        sa.CheckConstraint(
            "length(alpha3) = 3 AND alpha3 = upper(alpha3)", name=op.f("ck_countries_alpha3_format")
        ),
        sa.PrimaryKeyConstraint("alpha3", name=op.f("pk_countries")),
        sa.UniqueConstraint("alpha2", name=op.f("uq_countries_alpha2")),
    )
    op.create_table(
        "currencies",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("numeric", sa.String(length=3), nullable=False),
        sa.Column("exponent", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.CheckConstraint("exponent BETWEEN 0 AND 4", name=op.f("ck_currencies_exponent_range")),
        sa.CheckConstraint(
            "length(code) = 3 AND code = upper(code)", name=op.f("ck_currencies_code_format")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_currencies")),
    )
    op.create_table(
        "country_group_changes",
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column(
            "country_group",
            sa.Enum(
                "LDC",
                "LLDC",
                "SIDS",
                name="country_group",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "change",
            sa.Enum(
                "JOINED", "LEFT", name="change_kind", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "EFFECTIVE",
                "SCHEDULED",
                name="change_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["country"],
            ["countries.alpha3"],
            name=op.f("fk_country_group_changes_country_countries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "country",
            "country_group",
            "change",
            "changed_on",
            name=op.f("pk_country_group_changes"),
        ),
    )
    op.create_table(
        "country_group_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column(
            "country_group",
            sa.Enum(
                "LDC",
                "LLDC",
                "SIDS",
                name="country_group",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "valid_from IS NULL OR valid_to IS NULL OR valid_to > valid_from",
            name=op.f("ck_country_group_memberships_period_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["country"],
            ["countries.alpha3"],
            name=op.f("fk_country_group_memberships_country_countries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_country_group_memberships")),
    )
    op.create_index(
        op.f("ix_country_group_memberships_country"),
        "country_group_memberships",
        ["country"],
        unique=False,
    )
    op.create_index(
        "ix_country_group_memberships_group_country",
        "country_group_memberships",
        ["country_group", "country"],
        unique=False,
    )
    op.create_table(
        "exchange_rates",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("units_per_usd", hub.types.ExactDecimal(precision=38, scale=20), nullable=False),
        sa.CheckConstraint(
            "CAST(units_per_usd AS REAL) > 0", name=op.f("ck_exchange_rates_rate_positive")
        ),
        sa.ForeignKeyConstraint(
            ["currency"], ["currencies.code"], name=op.f("fk_exchange_rates_currency_currencies")
        ),
        sa.PrimaryKeyConstraint("currency", "rate_date", "source", name=op.f("pk_exchange_rates")),
    )
    currencies = sa.table(
        "currencies",
        sa.column("code", sa.String),
        sa.column("numeric", sa.String),
        sa.column("exponent", sa.Integer),
        sa.column("name", sa.String),
    )
    op.bulk_insert(
        currencies,
        [
            {"code": code, "numeric": numeric, "exponent": exponent, "name": name}
            for code, numeric, exponent, name in CURRENCIES
        ],
    )
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column(
            "organisation_type",
            sa.Enum(
                "GOVERNMENT",
                "PRIVATE_SECTOR",
                "INTERNATIONAL_ORGANIZATION",
                "CIVIL_SOCIETY",
                "ACADEMIA",
                "YOUTH",
                "MEDIA",
                name="organisation_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("headquarters_country", sa.String(length=3), nullable=True),
        sa.Column("iati_identifier", sa.String(length=200), nullable=True),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column(
            "membership_status",
            sa.Enum(
                "NONE",
                "APPLIED",
                "MEMBER",
                "SUSPENDED",
                name="membership_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("applied_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("member_since", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("suspended_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("source_system", sa.String(length=100), nullable=True),
        sa.Column("external_id", sa.String(length=500), nullable=True),
        sa.Column("fetched_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("payload_hash", sa.String(length=128), nullable=True),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "membership_status != 'APPLIED' OR applied_at IS NOT NULL",
            name=op.f("ck_organisations_applied_dated"),
        ),
        sa.CheckConstraint(
            "membership_status != 'SUSPENDED' OR suspended_at IS NOT NULL",
            name=op.f("ck_organisations_suspension_dated"),
        ),
        sa.CheckConstraint(
            "membership_status NOT IN ('MEMBER', 'SUSPENDED') OR member_since IS NOT NULL",
            name=op.f("ck_organisations_member_dated"),
        ),
        sa.CheckConstraint(
            "(source_system IS NULL AND external_id IS NULL AND fetched_at IS NULL AND payload_hash IS NULL) OR (source_system IS NOT NULL AND external_id IS NOT NULL AND fetched_at IS NOT NULL)",
            name=op.f("ck_organisations_provenance_complete"),
        ),
        sa.CheckConstraint(
            "iati_identifier IS NULL OR length(trim(iati_identifier)) > 0",
            name=op.f("ck_organisations_iati_identifier_present"),
        ),
        sa.CheckConstraint("length(trim(name)) > 0", name=op.f("ck_organisations_name_present")),
        sa.ForeignKeyConstraint(
            ["headquarters_country"],
            ["countries.alpha3"],
            name=op.f("fk_organisations_headquarters_country_countries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("iati_identifier", name=op.f("uq_organisations_iati_identifier")),
        sa.UniqueConstraint(
            "source_system", "external_id", name=op.f("uq_organisations_source_system_external_id")
        ),
    )
    op.create_index(
        op.f("ix_organisations_headquarters_country"),
        "organisations",
        ["headquarters_country"],
        unique=False,
    )
    op.create_index(
        op.f("ix_organisations_membership_status"),
        "organisations",
        ["membership_status"],
        unique=False,
    )
    op.create_table(
        "organisation_identifiers",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=50), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "length(scheme) > 0 AND length(value) > 0",
            name=op.f("ck_organisation_identifiers_present"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_identifiers_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organisation_id", "scheme", name=op.f("pk_organisation_identifiers")
        ),
        sa.UniqueConstraint(
            "scheme", "value", name=op.f("uq_organisation_identifiers_scheme_value")
        ),
    )
    op.create_table(
        "pledges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_member_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "pledge_type",
            sa.Enum(
                "FINANCIAL",
                "POLICY",
                "ADVOCACY",
                "PROGRAMMATIC",
                name="pledge_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "publication_status",
            sa.Enum(
                "DRAFT",
                "SUBMITTED",
                "PUBLISHED",
                "FULFILLED",
                "WITHDRAWN",
                name="publication_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "implementation_status",
            sa.Enum(
                "PIPELINE",
                "IMPLEMENTATION",
                "COMPLETED",
                "CANCELLED",
                "SUSPENDED",
                name="implementation_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("announced_on", sa.Date(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("published_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("usd_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("usd_rate", hub.types.ExactDecimal(precision=38, scale=20), nullable=True),
        sa.Column("usd_rate_date", sa.Date(), nullable=True),
        sa.Column("usd_rate_source", sa.String(length=100), nullable=True),
        sa.Column("usd_missing_reason", sa.Text(), nullable=True),
        sa.Column("source_system", sa.String(length=100), nullable=True),
        sa.Column("external_id", sa.String(length=500), nullable=True),
        sa.Column("fetched_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("payload_hash", sa.String(length=128), nullable=True),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "publication_status != 'WITHDRAWN' OR withdrawn_at IS NOT NULL",
            name=op.f("ck_pledges_withdrawal_dated"),
        ),
        sa.CheckConstraint(
            "publication_status NOT IN ('PUBLISHED', 'FULFILLED') OR published_at IS NOT NULL",
            name=op.f("ck_pledges_publication_dated"),
        ),
        sa.CheckConstraint(
            "(amount_minor IS NULL) = (currency IS NULL)",
            name=op.f("ck_pledges_amount_has_currency"),
        ),
        sa.CheckConstraint(
            "(source_system IS NULL AND external_id IS NULL AND fetched_at IS NULL AND payload_hash IS NULL) OR (source_system IS NOT NULL AND external_id IS NOT NULL AND fetched_at IS NOT NULL)",
            name=op.f("ck_pledges_provenance_complete"),
        ),
        sa.CheckConstraint(
            "(usd_amount_minor IS NULL AND usd_rate IS NULL AND usd_rate_date IS NULL AND usd_rate_source IS NULL) OR (usd_amount_minor IS NOT NULL AND usd_rate IS NOT NULL AND usd_rate_date IS NOT NULL AND usd_rate_source IS NOT NULL AND usd_missing_reason IS NULL AND amount_minor IS NOT NULL)",
            name=op.f("ck_pledges_usd_has_rate"),
        ),
        sa.CheckConstraint(
            "amount_minor >= 0 AND (usd_amount_minor IS NULL OR usd_amount_minor >= 0)",
            name=op.f("ck_pledges_amount_non_negative"),
        ),
        sa.CheckConstraint(
            "amount_minor IS NULL OR usd_amount_minor IS NOT NULL OR usd_missing_reason IS NOT NULL",
            name=op.f("ck_pledges_usd_or_reason"),
        ),
        sa.CheckConstraint("length(trim(title)) > 0", name=op.f("ck_pledges_title_present")),
        sa.CheckConstraint(
            "start_date IS NULL OR end_date IS NULL OR end_date >= start_date",
            name=op.f("ck_pledges_dates_ordered"),
        ),
        sa.CheckConstraint(
            "usd_missing_reason IS NULL OR length(trim(usd_missing_reason)) > 0",
            name=op.f("ck_pledges_usd_reason_present"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_pledges_version_positive")),
        sa.ForeignKeyConstraint(
            ["currency"], ["currencies.code"], name=op.f("fk_pledges_currency_currencies")
        ),
        sa.ForeignKeyConstraint(
            ["lead_member_id"],
            ["organisations.id"],
            name=op.f("fk_pledges_lead_member_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pledges")),
        sa.UniqueConstraint("id", "lead_member_id", name=op.f("uq_pledges_id_lead_member_id")),
        sa.UniqueConstraint(
            "source_system", "external_id", name=op.f("uq_pledges_source_system_external_id")
        ),
    )
    op.create_index(op.f("ix_pledges_announced_on"), "pledges", ["announced_on"], unique=False)
    op.create_index(op.f("ix_pledges_lead_member_id"), "pledges", ["lead_member_id"], unique=False)
    op.create_index(
        op.f("ix_pledges_publication_status"), "pledges", ["publication_status"], unique=False
    )
    op.create_table(
        "endorsements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "INVITED",
                "ACCEPTED",
                "DECLINED",
                "REVOKED",
                name="endorsement_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("invited_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("declined_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status != 'ACCEPTED' OR accepted_at IS NOT NULL",
            name=op.f("ck_endorsements_accept_dated"),
        ),
        sa.CheckConstraint(
            "status != 'DECLINED' OR declined_at IS NOT NULL",
            name=op.f("ck_endorsements_decline_dated"),
        ),
        sa.CheckConstraint(
            "status != 'INVITED' OR invited_at IS NOT NULL",
            name=op.f("ck_endorsements_invite_dated"),
        ),
        sa.CheckConstraint(
            "status != 'REVOKED' OR revoked_at IS NOT NULL",
            name=op.f("ck_endorsements_revoke_dated"),
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["organisations.id"],
            name=op.f("fk_endorsements_invited_by_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_endorsements_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_endorsements_pledge_id_pledges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endorsements")),
        sa.UniqueConstraint(
            "pledge_id", "organisation_id", name=op.f("uq_endorsements_pledge_id_organisation_id")
        ),
    )
    op.create_index(
        op.f("ix_endorsements_organisation_id"), "endorsements", ["organisation_id"], unique=False
    )
    op.create_table(
        "money_flows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "COMMITMENT",
                "PLEDGE",
                "DISBURSEMENT",
                "EXPENDITURE",
                "INCOMING",
                name="transaction_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("counts_toward_total", sa.Boolean(), nullable=False),
        sa.Column("count_reason", sa.String(length=200), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("usd_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("usd_rate", hub.types.ExactDecimal(precision=38, scale=20), nullable=True),
        sa.Column("usd_rate_date", sa.Date(), nullable=True),
        sa.Column("usd_rate_source", sa.String(length=100), nullable=True),
        sa.Column("usd_missing_reason", sa.Text(), nullable=True),
        sa.Column("source_system", sa.String(length=100), nullable=True),
        sa.Column("external_id", sa.String(length=500), nullable=True),
        sa.Column("fetched_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("payload_hash", sa.String(length=128), nullable=True),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(amount_minor IS NULL) = (currency IS NULL)",
            name=op.f("ck_money_flows_amount_has_currency"),
        ),
        sa.CheckConstraint(
            "(source_system IS NULL AND external_id IS NULL AND fetched_at IS NULL AND payload_hash IS NULL) OR (source_system IS NOT NULL AND external_id IS NOT NULL AND fetched_at IS NOT NULL)",
            name=op.f("ck_money_flows_provenance_complete"),
        ),
        sa.CheckConstraint(
            "(usd_amount_minor IS NULL AND usd_rate IS NULL AND usd_rate_date IS NULL AND usd_rate_source IS NULL) OR (usd_amount_minor IS NOT NULL AND usd_rate IS NOT NULL AND usd_rate_date IS NOT NULL AND usd_rate_source IS NOT NULL AND usd_missing_reason IS NULL AND amount_minor IS NOT NULL)",
            name=op.f("ck_money_flows_usd_has_rate"),
        ),
        sa.CheckConstraint("amount_minor IS NOT NULL", name=op.f("ck_money_flows_amount_required")),
        sa.CheckConstraint(
            "amount_minor IS NULL OR usd_amount_minor IS NOT NULL OR usd_missing_reason IS NOT NULL",
            name=op.f("ck_money_flows_usd_or_reason"),
        ),
        sa.CheckConstraint(
            "length(count_reason) > 0", name=op.f("ck_money_flows_count_reason_present")
        ),
        sa.CheckConstraint(
            "usd_missing_reason IS NULL OR length(trim(usd_missing_reason)) > 0",
            name=op.f("ck_money_flows_usd_reason_present"),
        ),
        sa.ForeignKeyConstraint(
            ["currency"], ["currencies.code"], name=op.f("fk_money_flows_currency_currencies")
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_money_flows_pledge_id_pledges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_money_flows")),
        sa.UniqueConstraint(
            "source_system", "external_id", name=op.f("uq_money_flows_source_system_external_id")
        ),
    )
    op.create_index(op.f("ix_money_flows_pledge_id"), "money_flows", ["pledge_id"], unique=False)
    op.create_table(
        "pledge_beneficiary_groups",
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column(
            "beneficiary_group",
            sa.Enum(
                "WOMEN_AND_GIRLS",
                "YOUTH",
                "CHILDREN",
                "PERSONS_WITH_DISABILITIES",
                "OLDER_PERSONS",
                "RURAL_COMMUNITIES",
                "INDIGENOUS_PEOPLES",
                "REFUGEES_AND_DISPLACED_PERSONS",
                "SMALL_BUSINESSES",
                name="beneficiary_group",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_pledge_beneficiary_groups_pledge_id_pledges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "pledge_id", "beneficiary_group", name=op.f("pk_pledge_beneficiary_groups")
        ),
    )
    op.create_table(
        "pledge_focus_areas",
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column(
            "focus_area",
            sa.Enum(
                "ACCESS",
                "ADOPTION",
                "VALUE_CREATION",
                "ACCELERATE",
                name="focus_area",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_pledge_focus_areas_pledge_id_pledges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pledge_id", "focus_area", name=op.f("pk_pledge_focus_areas")),
    )
    op.create_table(
        "pledge_sdgs",
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("sdg", sa.Integer(), autoincrement=False, nullable=False),
        sa.CheckConstraint("sdg BETWEEN 1 AND 17", name=op.f("ck_pledge_sdgs_sdg_range")),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_pledge_sdgs_pledge_id_pledges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pledge_id", "sdg", name=op.f("pk_pledge_sdgs")),
    )
    op.create_table(
        "pledge_target_countries",
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["country"],
            ["countries.alpha3"],
            name=op.f("fk_pledge_target_countries_country_countries"),
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_pledge_target_countries_pledge_id_pledges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pledge_id", "country", name=op.f("pk_pledge_target_countries")),
    )
    op.create_index(
        op.f("ix_pledge_target_countries_country"),
        "pledge_target_countries",
        ["country"],
        unique=False,
    )
    op.create_table(
        "pledge_target_groups",
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column(
            "country_group",
            sa.Enum(
                "LDC",
                "LLDC",
                "SIDS",
                name="country_group",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_pledge_target_groups_pledge_id_pledges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pledge_id", "country_group", name=op.f("pk_pledge_target_groups")),
    )
    op.create_table(
        "progress_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("reporting_member_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("submitted_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "SUBMITTED",
                "VERIFIED",
                "REJECTED",
                name="report_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("usd_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("usd_rate", hub.types.ExactDecimal(precision=38, scale=20), nullable=True),
        sa.Column("usd_rate_date", sa.Date(), nullable=True),
        sa.Column("usd_rate_source", sa.String(length=100), nullable=True),
        sa.Column("usd_missing_reason", sa.Text(), nullable=True),
        sa.Column("source_system", sa.String(length=100), nullable=True),
        sa.Column("external_id", sa.String(length=500), nullable=True),
        sa.Column("fetched_at", hub.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("payload_hash", sa.String(length=128), nullable=True),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(amount_minor IS NULL) = (currency IS NULL)",
            name=op.f("ck_progress_reports_amount_has_currency"),
        ),
        sa.CheckConstraint(
            "(source_system IS NULL AND external_id IS NULL AND fetched_at IS NULL AND payload_hash IS NULL) OR (source_system IS NOT NULL AND external_id IS NOT NULL AND fetched_at IS NOT NULL)",
            name=op.f("ck_progress_reports_provenance_complete"),
        ),
        sa.CheckConstraint(
            "(usd_amount_minor IS NULL AND usd_rate IS NULL AND usd_rate_date IS NULL AND usd_rate_source IS NULL) OR (usd_amount_minor IS NOT NULL AND usd_rate IS NOT NULL AND usd_rate_date IS NOT NULL AND usd_rate_source IS NOT NULL AND usd_missing_reason IS NULL AND amount_minor IS NOT NULL)",
            name=op.f("ck_progress_reports_usd_has_rate"),
        ),
        sa.CheckConstraint(
            "amount_minor >= 0 AND (usd_amount_minor IS NULL OR usd_amount_minor >= 0)",
            name=op.f("ck_progress_reports_amount_non_negative"),
        ),
        sa.CheckConstraint(
            "amount_minor IS NULL OR usd_amount_minor IS NOT NULL OR usd_missing_reason IS NOT NULL",
            name=op.f("ck_progress_reports_usd_or_reason"),
        ),
        sa.CheckConstraint(
            "period_end >= period_start", name=op.f("ck_progress_reports_period_ordered")
        ),
        sa.CheckConstraint(
            "usd_missing_reason IS NULL OR length(trim(usd_missing_reason)) > 0",
            name=op.f("ck_progress_reports_usd_reason_present"),
        ),
        sa.ForeignKeyConstraint(
            ["currency"], ["currencies.code"], name=op.f("fk_progress_reports_currency_currencies")
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_progress_reports_pledge_id_pledges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporting_member_id"],
            ["organisations.id"],
            name=op.f("fk_progress_reports_reporting_member_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_reports")),
        sa.UniqueConstraint("id", "pledge_id", name=op.f("uq_progress_reports_id_pledge_id")),
        sa.UniqueConstraint(
            "source_system",
            "external_id",
            name=op.f("uq_progress_reports_source_system_external_id"),
        ),
    )
    op.create_index(
        op.f("ix_progress_reports_pledge_id"), "progress_reports", ["pledge_id"], unique=False
    )
    op.create_index(
        op.f("ix_progress_reports_reporting_member_id"),
        "progress_reports",
        ["reporting_member_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_progress_reports_submitted_at"), "progress_reports", ["submitted_at"], unique=False
    )
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column(
            "indicator",
            sa.Enum(
                "PEOPLE_CONNECTED",
                "SCHOOLS_CONNECTED",
                "HEALTH_FACILITIES_CONNECTED",
                "PEOPLE_TRAINED",
                "USD_MOBILISED",
                "FIBRE_KM",
                "OTHER",
                name="indicator",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("label", sa.String(length=300), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("unit", sa.String(length=50), nullable=False),
        sa.Column(
            "measure",
            sa.Enum(
                "QUANTITATIVE",
                "QUALITATIVE",
                name="measure",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "direction",
            sa.Enum(
                "ASCENDING",
                "DESCENDING",
                name="direction",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("cumulative", sa.Boolean(), nullable=False),
        sa.Column("baseline_value", hub.types.ExactDecimal(precision=28, scale=6), nullable=True),
        sa.Column("baseline_date", sa.Date(), nullable=True),
        sa.Column("target_value", hub.types.ExactDecimal(precision=28, scale=6), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("created_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "indicator != 'OTHER' OR label IS NOT NULL", name=op.f("ck_targets_other_labelled")
        ),
        sa.CheckConstraint(
            "measure != 'QUALITATIVE' OR (target_value IS NULL AND baseline_value IS NULL AND description IS NOT NULL)",
            name=op.f("ck_targets_qualitative_described"),
        ),
        sa.CheckConstraint(
            "measure != 'QUANTITATIVE' OR target_value IS NOT NULL",
            name=op.f("ck_targets_quantitative_has_value"),
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["pledges.id"],
            name=op.f("fk_targets_pledge_id_pledges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targets")),
        sa.UniqueConstraint("id", "pledge_id", name=op.f("uq_targets_id_pledge_id")),
    )
    op.create_index(op.f("ix_targets_pledge_id"), "targets", ["pledge_id"], unique=False)
    op.create_table(
        "endorsement_roles",
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "LEAD",
                "CO_LEAD",
                "FUNDER",
                "IMPLEMENTER",
                "ENDORSER",
                name="role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("lead_member_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(role = 'LEAD' AND lead_member_id = organisation_id) OR (role != 'LEAD' AND lead_member_id IS NULL)",
            name=op.f("ck_endorsement_roles_lead_member_matches"),
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id", "lead_member_id"],
            ["pledges.id", "pledges.lead_member_id"],
            name=op.f("fk_endorsement_roles_pledge_id_lead_member_id_pledges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id", "organisation_id"],
            ["endorsements.pledge_id", "endorsements.organisation_id"],
            name=op.f("fk_endorsement_roles_pledge_id_organisation_id_endorsements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "pledge_id", "organisation_id", "role", name=op.f("pk_endorsement_roles")
        ),
    )
    op.create_index(
        "uq_endorsement_roles_one_lead_per_pledge",
        "endorsement_roles",
        ["pledge_id"],
        unique=True,
        postgresql_where=sa.text("role = 'LEAD'"),
        sqlite_where=sa.text("role = 'LEAD'"),
    )
    op.create_table(
        "evidence_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.CheckConstraint(
            "url LIKE 'https://%' OR url LIKE 'http://%'",
            name=op.f("ck_evidence_links_url_is_http"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["progress_reports.id"],
            name=op.f("fk_evidence_links_report_id_progress_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_links")),
    )
    op.create_index(
        op.f("ix_evidence_links_report_id"), "evidence_links", ["report_id"], unique=False
    )
    op.create_table(
        "progress_values",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("value", hub.types.ExactDecimal(precision=28, scale=6), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "value IS NOT NULL OR note IS NOT NULL", name=op.f("ck_progress_values_value_or_note")
        ),
        sa.ForeignKeyConstraint(
            ["report_id", "pledge_id"],
            ["progress_reports.id", "progress_reports.pledge_id"],
            name=op.f("fk_progress_values_report_id_pledge_id_progress_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id", "pledge_id"],
            ["targets.id", "targets.pledge_id"],
            name=op.f("fk_progress_values_target_id_pledge_id_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", "target_id", name=op.f("pk_progress_values")),
    )
    op.create_index(
        op.f("ix_progress_values_target_id"), "progress_values", ["target_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_progress_values_target_id"), table_name="progress_values")
    op.drop_table("progress_values")
    op.drop_index(op.f("ix_evidence_links_report_id"), table_name="evidence_links")
    op.drop_table("evidence_links")
    op.drop_index(
        "uq_endorsement_roles_one_lead_per_pledge",
        table_name="endorsement_roles",
        postgresql_where=sa.text("role = 'LEAD'"),
        sqlite_where=sa.text("role = 'LEAD'"),
    )
    op.drop_table("endorsement_roles")
    op.drop_index(op.f("ix_targets_pledge_id"), table_name="targets")
    op.drop_table("targets")
    op.drop_index(op.f("ix_progress_reports_submitted_at"), table_name="progress_reports")
    op.drop_index(op.f("ix_progress_reports_reporting_member_id"), table_name="progress_reports")
    op.drop_index(op.f("ix_progress_reports_pledge_id"), table_name="progress_reports")
    op.drop_table("progress_reports")
    op.drop_table("pledge_target_groups")
    op.drop_index(op.f("ix_pledge_target_countries_country"), table_name="pledge_target_countries")
    op.drop_table("pledge_target_countries")
    op.drop_table("pledge_sdgs")
    op.drop_table("pledge_focus_areas")
    op.drop_table("pledge_beneficiary_groups")
    op.drop_index(op.f("ix_money_flows_pledge_id"), table_name="money_flows")
    op.drop_table("money_flows")
    op.drop_index(op.f("ix_endorsements_organisation_id"), table_name="endorsements")
    op.drop_table("endorsements")
    op.drop_index(op.f("ix_pledges_publication_status"), table_name="pledges")
    op.drop_index(op.f("ix_pledges_lead_member_id"), table_name="pledges")
    op.drop_index(op.f("ix_pledges_announced_on"), table_name="pledges")
    op.drop_table("pledges")
    op.drop_table("organisation_identifiers")
    op.drop_index(op.f("ix_organisations_membership_status"), table_name="organisations")
    op.drop_index(op.f("ix_organisations_headquarters_country"), table_name="organisations")
    op.drop_table("organisations")
    op.drop_table("exchange_rates")
    op.drop_index(
        "ix_country_group_memberships_group_country", table_name="country_group_memberships"
    )
    op.drop_index(
        op.f("ix_country_group_memberships_country"), table_name="country_group_memberships"
    )
    op.drop_table("country_group_memberships")
    op.drop_table("country_group_changes")
    op.drop_table("currencies")
    op.drop_table("countries")
