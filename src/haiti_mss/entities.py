"""Names for the codes that identify countries, organizations and currencies in the data."""

from __future__ import annotations

from functools import cache

import pycountry

# Codes the data may use besides ISO 3166-1 alpha-3 countries. EUU is the code the UN and the
# World Bank use for the European Union; the rest name where money goes rather than who gives it.
ORGANIZATION_CODES = {
    "EUU": "European Union",
    "UN_TF": "UN trust fund for the MSS",
    "MSS": "Multinational Security Support mission",
    "GSF": "Gang Suppression Force",
}

# Short names that read better in a chart than pycountry's official ones.
_SHORT_NAMES = {"BHS": "Bahamas", "USA": "United States", "GBR": "United Kingdom"}


def is_country(code: str) -> bool:
    """True when ``code`` is an ISO 3166-1 alpha-3 country code."""
    return pycountry.countries.get(alpha_3=code) is not None


def is_currency(code: str) -> bool:
    """True when ``code`` is an ISO 4217 currency code."""
    return pycountry.currencies.get(alpha_3=code) is not None


@cache
def entity_name(code: str | None) -> str:
    """A readable name for a country or organization code; mission-wide when empty."""
    if code is None or code == "" or code != code:  # NaN
        return "All contributors"
    if code in _SHORT_NAMES:
        return _SHORT_NAMES[code]
    if code in ORGANIZATION_CODES:
        return ORGANIZATION_CODES[code]
    country = pycountry.countries.get(alpha_3=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


# How money channels read in a report.
CHANNEL_LABELS = {"un_trust_fund": "UN trust fund", "bilateral": "bilateral",
                  "in_kind": "in kind", "hnp_support": "Haitian police",
                  "unspecified": "channel not stated"}
