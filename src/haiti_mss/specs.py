"""The declared shape of every file a user edits besides the data: report variants
(``params/*.yaml`` and ``params/variants.yaml``) and model scenarios (``scenarios/*.yaml``).

Each is checked before anything runs or is written: types, enums, bounds and names, with an
error naming the file and the key. YAML is read safely and without implicit dates (a date stays
text and is checked as such)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml

from . import paths
from .errors import ParameterError

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
MISSIONS = ("MSS", "GSF", "current")
# Memory budget of one model run: draws x months x 8 bytes x about 14 arrays in flight.
MEMORY_BUDGET_BYTES = 4 * 1024 ** 3
MAX_MONTHS = 120
MAX_DRAWS = 200_000


class _TextDates(yaml.SafeLoader):
    """YAML without implicit timestamps: 2024-13-01 stays text, so we can say which key is
    wrong instead of PyYAML crashing."""


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def rel(path: Path) -> str:
    """A path as the user knows it: relative to the checkout, else its name."""
    path = Path(path).resolve()
    return path.relative_to(paths.ROOT).as_posix() if path.is_relative_to(paths.ROOT) else path.name


def read_yaml(path: Path, what: str = "a mapping of keys to values") -> dict:
    """A YAML file as a mapping, or a ParameterError naming the file."""
    path = Path(path)
    try:
        spec = yaml.load(path.read_text(encoding="utf-8"), Loader=_TextDates)
    except FileNotFoundError:
        raise ParameterError(f"{rel(path)}: no such file") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as exc:
        raise ParameterError(f"{rel(path)}: cannot be read as YAML ({exc})") from None
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise ParameterError(f"{rel(path)}: expected {what}")
    return spec


def check_text(where: str, key: str, value, *, max_length: int = 300) -> str:
    if not isinstance(value, str):
        raise ParameterError(f"{where}: '{key}' = {value!r}; expected text")
    if CONTROL.search(value):
        raise ParameterError(f"{where}: '{key}' holds a control or direction-override character")
    if len(value) > max_length:
        raise ParameterError(f"{where}: '{key}' is {len(value)} characters; expected at most "
                             f"{max_length}")
    return value


def check_date(where: str, key: str, value, *, allow_latest: bool = False) -> str:
    if isinstance(value, dt.date):
        value = value.isoformat()
    if allow_latest and value == "latest":
        return value
    try:
        parsed = dt.date.fromisoformat(str(value))
    except ValueError:
        raise ParameterError(f"{where}: '{key}' = {value!r}; expected a date as YYYY-MM-DD"
                             + (" or 'latest'" if allow_latest else "")) from None
    if parsed > dt.date.today():
        raise ParameterError(f"{where}: '{key}' = {value!r} is in the future")
    return parsed.isoformat()


def check_int(where: str, key: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"{where}: '{key}' = {value!r}; expected a whole number")
    if not low <= value <= high:
        raise ParameterError(f"{where}: '{key}' = {value:,}; expected {low:,} to {high:,}")
    return value


# ---------------------------------------------------------------------------------------------
# Report variants


def variants_file(folder: Path | None = None) -> Path:
    return (folder or paths.PARAMS_DIR) / "variants.yaml"


def variant_files() -> list[Path]:
    """The parameter file of every variant (every params/*.yaml but variants.yaml)."""
    return sorted(p for p in paths.PARAMS_DIR.glob("*.yaml") if p.name != "variants.yaml")


def variant_info(name: str, folder: Path | None = None) -> dict:
    """A variant's title and description from the variants.yaml beside its parameter file."""
    where = rel(variants_file(folder))
    table = read_yaml(variants_file(folder))
    if not SLUG.match(name):
        raise ParameterError(f"params/{name}.yaml: the variant name {name!r} is not a slug "
                             f"(lower-case letters, digits and hyphens)")
    if name not in table:
        raise ParameterError(f"{where}: no entry for the variant '{name}' (params/{name}.yaml "
                             f"exists); add its title and description")
    info = table[name]
    if not isinstance(info, dict):
        raise ParameterError(f"{where}: '{name}' must be a mapping with title and description")
    unknown = set(info) - {"title", "description"}
    if unknown:
        raise ParameterError(f"{where}: '{name}' has unknown key(s) {', '.join(sorted(unknown))}")
    if "title" not in info:
        raise ParameterError(f"{where}: '{name}' has no title")
    return {"title": check_text(where, f"{name}.title", info["title"], max_length=120),
            "description": check_text(where, f"{name}.description",
                                      info.get("description", ""), max_length=600)}


def check_parameter(where: str, name: str, value, declared_type: str):
    """Coerce one report parameter to what the notebooks declare, against the spec."""
    if isinstance(value, dt.date):
        value = value.isoformat()
    expected = {"str": str, "int": int, "float": (int, float), "bool": bool}.get(declared_type)
    if expected and (not isinstance(value, expected)
                     or (declared_type in ("int", "float") and isinstance(value, bool))):
        raise ParameterError(f"{where}: '{name}' = {value!r}; expected a {declared_type}")
    if name == "as_of":
        return check_date(where, name, value, allow_latest=True)
    if name == "label":
        return check_text(where, name, value, max_length=120)
    if name == "mission" and value not in MISSIONS:
        raise ParameterError(f"{where}: 'mission' = {value!r}; expected one of "
                             f"{', '.join(MISSIONS)}")
    if name == "scenario" and value != "auto" and value not in scenario_names():
        raise ParameterError(f"{where}: 'scenario' = {value!r}; expected auto or one of "
                             f"{', '.join(scenario_names())}")
    if name == "n_prior":
        return check_int(where, name, value, 500, MAX_DRAWS)
    if name == "seed":
        return check_int(where, name, value, 0, 2**32 - 1)
    if isinstance(value, str):
        check_text(where, name, value)
    return value


# ---------------------------------------------------------------------------------------------
# Scenarios

SCENARIO_KEYS = {"title", "description", "mission", "start", "months", "ceiling", "projection",
                 "calibrate_until", "calibrated_on", "gates_off", "initial_deployed", "overrides",
                 "assumptions"}


def scenario_names() -> list[str]:
    return sorted(p.stem for p in paths.SCENARIOS_DIR.glob("*.yaml"))


def load_scenario(name: str, scenarios_dir: Path | None = None,
                  parameter_names: set[str] | None = None) -> dict:
    """A scenario file, checked against its spec: known keys, types, enums and bounds."""
    from .model import GATES

    if not SLUG.match(str(name)):
        raise ParameterError(f"scenario {name!r}: not a valid name (lower-case letters, digits "
                             f"and hyphens)")
    path = (scenarios_dir or paths.SCENARIOS_DIR) / f"{name}.yaml"
    if not path.is_file():
        raise ParameterError(f"scenarios/{name}.yaml: no such scenario; expected one of "
                             f"{', '.join(scenario_names())}")
    where = f"scenarios/{name}.yaml"
    spec = read_yaml(path)
    unknown = set(spec) - SCENARIO_KEYS
    if unknown:
        raise ParameterError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; expected "
                             f"{', '.join(sorted(SCENARIO_KEYS))}")
    for key in ("title", "mission", "start", "months", "ceiling"):
        if key not in spec:
            raise ParameterError(f"{where}: missing key '{key}'")
    check_text(where, "title", spec["title"], max_length=120)
    check_text(where, "description", spec.get("description", ""), max_length=600)
    if spec["mission"] not in ("MSS", "GSF"):
        raise ParameterError(f"{where}: 'mission' = {spec['mission']!r}; expected MSS or GSF")
    spec["start"] = check_date(where, "start", spec["start"])
    check_int(where, "months", spec["months"], 1, MAX_MONTHS)
    if spec["ceiling"] != "planned":
        check_int(where, "ceiling", spec["ceiling"], 1, 100_000)
    if "calibrate_until" in spec:
        spec["calibrate_until"] = check_date(where, "calibrate_until", spec["calibrate_until"])
    if "calibrated_on" in spec and spec["calibrated_on"] not in scenario_names():
        raise ParameterError(f"{where}: 'calibrated_on' = {spec['calibrated_on']!r}; expected "
                             f"one of {', '.join(scenario_names())}")
    gates = spec.get("gates_off") or []
    if not isinstance(gates, list) or not set(gates) <= set(GATES):
        raise ParameterError(f"{where}: 'gates_off' = {gates!r}; expected a list of "
                             f"{', '.join(GATES)}")
    initial = spec.get("initial_deployed", 0)
    if initial != "observed":
        check_int(where, "initial_deployed", initial or 0, 0, 100_000)
    if not isinstance(spec.get("projection", False), bool):
        raise ParameterError(f"{where}: 'projection' must be true or false")
    overrides = spec.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise ParameterError(f"{where}: 'overrides' must map parameter names to values")
    for pname, values in overrides.items():
        if parameter_names is not None and pname not in parameter_names:
            raise ParameterError(f"{where}: override of unknown parameter '{pname}'")
        if not isinstance(values, dict) or not set(values) <= {"central", "low", "high", "note",
                                                                "source_id", "basis"}:
            raise ParameterError(f"{where}: override '{pname}' must set central, low, high, "
                                 f"note, source_id and/or basis")
        if values.get("basis", "assumption") not in ("assumption", "derived", "source"):
            raise ParameterError(f"{where}: override '{pname}.basis' = {values['basis']!r}; "
                                 f"expected assumption, derived or source")
        nums = {k: values[k] for k in ("low", "central", "high") if k in values}
        for k, v in nums.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or v != v \
                    or abs(v) == float("inf"):
                raise ParameterError(f"{where}: override '{pname}.{k}' = {v!r}; expected a "
                                     f"finite number")
    for a in spec.get("assumptions") or []:
        check_text(where, "assumptions", a, max_length=400)
    spec.setdefault("overrides", {})
    spec.setdefault("gates_off", [])
    spec["name"] = name
    return spec


def check_draws(where: str, draws: int, months: int) -> None:
    """Refuse a model run that would not fit the memory budget."""
    need = draws * months * 8 * 14
    if need > MEMORY_BUDGET_BYTES:
        raise ParameterError(f"{where}: {draws:,} draws x {months} months need about "
                             f"{need / 1024 ** 3:.1f} GiB; the budget is "
                             f"{MEMORY_BUDGET_BYTES / 1024 ** 3:.0f} GiB")
