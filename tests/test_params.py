"""Chapter parameters: profiles validate, bad values fail with one clear message, and the
chapter's parameters cell is the default profile."""
import jupytext
import pytest

from nesy import params
from nesy.book import runner
from nesy.paths import CHAPTERS


@pytest.mark.parametrize("chapter", runner.chapters())
def test_every_profile_validates(chapter):
    assert {"default", "paper"} <= set(params.profiles(chapter))
    for profile in params.profiles(chapter):
        assert params.load_profile(chapter, profile)["profile"] == profile


@pytest.mark.parametrize("chapter", runner.chapters())
def test_default_profile_is_the_parameters_cell(chapter):
    """What papermill would run with no profile at all (the cell as written) is the default profile,
    and no YAML file holds a second copy of it."""
    notebook = jupytext.read(CHAPTERS / f"{chapter}.py")
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    namespace = {}
    exec(cell.source, namespace)  # noqa: S102 - the chapter's own first code cell
    written = {name: value for name, value in namespace.items() if not name.startswith("__")}
    assert written == params.load_profile(chapter, "default")
    assert not (params.PARAMS / chapter / "default.yaml").exists()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"n_images": -5}, "parameter 'n_images' must be an integer in \\[200, 1000000\\], got -5"),
        ({"n_images": 1.5}, "'n_images' must be an integer"),
        ({"learning_rate": "fast"}, "'learning_rate' must be a number"),
        ({"patience": True}, "'patience' must be an integer"),
        ({"validation_fraction": 0.9}, "'validation_fraction' must be a number in \\[0.05, 0.5\\], got 0.9"),
        ({"epochs": 3}, "unknown parameter 'epochs'"),
    ],
)
def test_bad_values_give_one_clear_message(change, message):
    values = {**params.load_profile("ltn_crash", "default"), **change}
    with pytest.raises(params.ParameterError, match=message):
        params.validate("ltn_crash", values)


def test_missing_parameter_is_named():
    values = params.load_profile("ltn_crash", "default")
    del values["seed"]
    with pytest.raises(params.ParameterError, match="'seed' is missing"):
        params.validate("ltn_crash", values)


def test_choices_are_listed():
    spec = {"type": "str", "choices": ["mse", "ltn"]}
    with pytest.raises(params.ParameterError, match=r"one of \['mse', 'ltn'\], got 'sgd'"):
        params._check_value("objective", "sgd", spec)


def test_unknown_profile_lists_the_profiles():
    with pytest.raises(params.ParameterError, match="no profile 'huge'.*default"):
        params.load_profile("ltn_crash", "huge")


def test_runner_rejects_bad_override_before_running(tmp_path, monkeypatch):
    monkeypatch.setenv("NESY_BOOK_DIR", str(tmp_path))
    with pytest.raises(params.ParameterError, match="'n_images'"):
        runner.run_chapter("ltn_crash", "smoke", {"n_images": 0})
    assert not any(tmp_path.iterdir())  # nothing ran, nothing written


def test_runner_rejects_unknown_chapter():
    with pytest.raises(ValueError, match="chapter must be one of"):
        runner.run_chapter("no_such_chapter")


def test_list_length_bounds_are_checked_and_named():
    values = {**params.load_profile("vi_satnet", "default"), "loss_gap_classes": []}
    with pytest.raises(params.ParameterError, match=r"'loss_gap_classes' must be a list of 1 to 10 items, each an integer in \[0, 9\], got \[\]"):
        params.validate("vi_satnet", values)
    values["loss_gap_classes"] = [0, 10]
    with pytest.raises(params.ParameterError, match="'loss_gap_classes'"):
        params.validate("vi_satnet", values)


# --- one validation layer: YAML, schemas, lists, bounds, rules, reserved names --------------------


@pytest.fixture
def params_dir(tmp_path, monkeypatch):
    """An empty chapter 'toy' whose schema and profiles the test writes."""
    folder = tmp_path / "params" / "toy"
    folder.mkdir(parents=True)
    monkeypatch.setattr("nesy.params.PARAMS", tmp_path / "params")
    (folder / "schema.yaml").write_text(
        "rate: {type: float, min: 0.0, max: 1.0}\nsizes: {type: list, max: 3, items: {type: int, min: 1, max: 9}}\n"
        "low: {type: int, min: 0, max: 9}\nhigh: {type: int, min: 0, max: 9}\n_rules: ['low <= high']\n")
    (folder / "smoke.yaml").write_text("rate: 1e-3\nsizes: [1, 2]\nlow: 1\nhigh: 2\n")
    (tmp_path / "toy.py").write_text(TOY_SOURCE.format(cell=TOY_CELL))
    return folder


TOY_CELL = 'profile = "default"\n# the default profile\nrate = 0.5\nsizes = [3]\nlow = -0\nhigh = 2\n'
TOY_SOURCE = '# %% [markdown]\n# A toy chapter.\n\n# %% tags=["parameters"]\n{cell}\n# %%\nprint(rate)\n'


def test_default_profile_is_read_from_the_cell(params_dir):
    assert params.profiles("toy") == ["default", "smoke"]
    assert params.load_profile("toy", "default") == {"rate": 0.5, "sizes": [3], "low": 0, "high": 2, "profile": "default"}
    assert list(params.parameters_cell("toy")) == ["rate", "sizes", "low", "high"]  # the cell's order


@pytest.mark.parametrize("cell, message", [
    (TOY_CELL + "high = low + 2\n", r"toy.py, line 7 of the parameters cell: only 'name = literal' lines .* got 'high = low \+ 2'"),
    (TOY_CELL + "import math\n", r"line 7 of the parameters cell: only 'name = literal' lines .* got 'import math'"),
    (TOY_CELL + "rate = (\n", r"toy.py, line 7 of the parameters cell: "),
    (TOY_CELL.replace('"default"', '"paper"'), r"'profile' must be 'default' there"),
    (TOY_CELL.replace("rate = 0.5", "rate = 5.0"), r"parameter 'rate' must be a number in \[0, 1\], got 5.0 "
                                                   r"\(in .*toy.py's parameters cell\)"),
    (TOY_CELL.replace("rate = 0.5\n", ""), r"parameter 'rate' is missing from .*toy.py's parameters cell"),
])
def test_a_bad_parameters_cell_is_named(params_dir, cell, message):
    (params_dir.parent.parent / "toy.py").write_text(TOY_SOURCE.format(cell=cell))
    with pytest.raises(params.ParameterError, match=message):
        params.load_profile("toy", "default")


def test_a_second_copy_of_the_default_profile_is_refused(params_dir):
    (params_dir / "default.yaml").write_text("rate: 0.5\nsizes: [3]\nlow: 0\nhigh: 2\n")
    with pytest.raises(params.ParameterError, match=r"default.yaml: the default profile is the parameters cell of "
                                                    r".*toy.py; remove the YAML file"):
        params.load_profile("toy", "default")


def test_yaml_numbers_are_yaml_1_2(params_dir):
    assert params.load_profile("toy", "smoke")["rate"] == 0.001  # YAML 1.1 reads "1e-3" as a string
    assert params.parse_value("rate", "1e-3") == 0.001
    assert params.parse_value("rate", "2E5") == 200000.0
    assert params.parse_value("name", "'1e-3'") == "1e-3"


@pytest.mark.parametrize("text, where", [
    ("rate: [1, 2\nsizes: [1]\n", r"YAML error in .*smoke.yaml, line 2"),
    ("rate: 0.1\n  sizes: x: y\n", r"YAML error in .*smoke.yaml, line 2"),
])
def test_yaml_errors_name_the_file_and_line(params_dir, text, where):
    (params_dir / "smoke.yaml").write_text(text)
    with pytest.raises(params.ParameterError, match=where):
        params.load_profile("toy", "smoke")


def test_non_utf8_and_non_mapping_files_are_named(params_dir):
    (params_dir / "smoke.yaml").write_bytes(b"rate: \xff\xfe\n")
    with pytest.raises(params.ParameterError, match=r"smoke.yaml is not UTF-8 text"):
        params.load_profile("toy", "smoke")
    (params_dir / "smoke.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(params.ParameterError, match="must hold a mapping"):
        params.load_profile("toy", "smoke")


def test_set_value_yaml_error_names_the_option():
    with pytest.raises(params.ParameterError, match=r"YAML error in --set sizes=\[1, 2, line 1, column 6: expected"):
        params.parse_value("sizes", "[1, 2")


@pytest.mark.parametrize("schema_text, message", [
    ("n: {type: int, min: 0}\n", "'n' needs both min and max"),
    ("n: {type: float, max: 1.0}\n", "'n' needs both min and max"),
    ("n: {type: list, max: 3}\n", "'n' needs an items rule"),
    ("n: {type: list, items: {type: int, min: 0, max: 1}}\n", "'n' needs a max"),
    ("n: {type: list, max: 3, items: {type: int}}\n", "'n items' needs both min and max"),
    ("n: {type: integer, min: 0, max: 1}\n", "'n' needs a type"),
    ("n: {type: int, min: 0, max: 1, maximum: 2}\n", r"unknown schema keys \['maximum'\]"),
    ("profile: {type: str}\n", "'profile' is reserved"),
    ("n: {type: int, min: 0, max: 1}\n_rules: ['n <= m']\n", "rule 'n <= m' must read"),
    ("n: {type: int, min: 0, max: 1\n", r"YAML error in .*schema.yaml, line 2"),
])
def test_schemas_must_say_what_they_allow(params_dir, schema_text, message):
    (params_dir / "schema.yaml").write_text(schema_text)
    with pytest.raises(params.ParameterError, match=message):
        params.schema("toy")


@pytest.mark.parametrize("change, message", [
    ({"sizes": []}, r"'sizes' must be a list of 1 to 3 items"),
    ({"sizes": [1, "2"]}, r"'sizes' item 1 must be an integer in \[1, 9\], got '2' \(the list: \[1, '2'\]\)"),
    ({"sizes": [1, 10]}, r"'sizes' item 1 must be an integer in \[1, 9\], got 10"),
    ({"low": 2 ** 70}, r"'low' must be an integer in \[0, 9\]"),
    ({"rate": float("nan")}, r"'rate' must be a number in \[0, 1\], got nan"),
    ({"low": 5, "high": 4}, r"parameter 'low' must be <= high \(4\), got 5"),
])
def test_values_lists_bounds_and_rules(params_dir, change, message):
    values = {**params.load_profile("toy", "smoke"), **change}
    with pytest.raises(params.ParameterError, match=message):
        params.validate("toy", values)


def test_every_number_in_the_chapter_schemas_is_bounded():
    for chapter in runner.chapters():
        spec = params.schema(chapter)  # raises if a number lacks min/max or a list its items
        assert spec[params.RULES_KEY] == [] or all(isinstance(r, str) for r in spec[params.RULES_KEY])


def test_smug_sweep_lists_and_optbox_rule():
    values = params.load_profile("smug", "default")
    for change, message in [({"sweep_ks": []}, "'sweep_ks' must be a list of 1"),
                            ({"sweep_gammas": ["a"]}, "'sweep_gammas' item 0 must be a number"),
                            ({"optbox_min_cells": values["optbox_cells"] + 1}, "'optbox_min_cells' must be <= optbox_cells")]:
        with pytest.raises(params.ParameterError, match=message):
            params.validate("smug", {**values, **change})


def test_profile_is_not_a_parameter_to_set(tmp_path, monkeypatch, params_dir):
    monkeypatch.setenv("NESY_BOOK_DIR", str(tmp_path / "book"))
    with pytest.raises(params.ParameterError, match="'profile' is chosen with --profile"):
        runner.run_chapter("ltn_crash", "smoke", {"profile": "paper"})
    (params_dir / "smoke.yaml").write_text("rate: 0.1\nsizes: [1]\nlow: 1\nhigh: 2\nprofile: paper\n")
    with pytest.raises(params.ParameterError, match="'profile' is the file's own name"):
        params.load_profile("toy", "smoke")
    assert not (tmp_path / "book").exists()


@pytest.mark.parametrize("argv, message", [
    (["run", "no_such_chapter"], "error: chapter must be one of"),
    (["run", "ltn_crash", "--profile", "smoke", "--set", "n_images=[1, 2"], "error: YAML error in --set n_images="),
    (["run", "ltn_crash", "--profile", "smoke", "--set", "profile=paper"], "error: 'profile' is chosen with --profile"),
    (["run", "ltn_crash", "--profile", "smoke", "--set", "n_images"], "error: --set takes name=value"),
])
def test_command_line_gives_one_line_not_a_traceback(argv, message, capsys, tmp_path, monkeypatch):
    from nesy.book.__main__ import main

    monkeypatch.setenv("NESY_BOOK_DIR", str(tmp_path / "book"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and "Traceback" not in err
