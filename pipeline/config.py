"""Model configs: models/<name>/config.toml, read into typed dataclasses.

A missing or mistyped key, or a value of the wrong type, is refused with a
message naming the file, the key and what is expected.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.figures import budget_keys

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "models"
# TINYML_CI_BUILD_DIR moves all outputs elsewhere (tests use it to run the pipeline beside the real build).
BUILD_DIR_ENV = "TINYML_CI_BUILD_DIR"
BUILD_DIR = Path(os.environ.get(BUILD_DIR_ENV, ROOT / "build")).resolve()

@dataclass(frozen=True)
class DatasetConfig:
    source: str
    test_fraction: float
    validation_fraction: float
    seed: int
    # Only for source = "synthetic": how many samples, their shape and the number of (random) labels.
    samples: int = 0
    input_shape: tuple[int, ...] = ()
    classes: int = 0


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int
    batch_size: int
    learning_rate: float
    seed: int


@dataclass(frozen=True)
class EmulatorConfig:
    wall_timeout_s: float = 120.0
    emulated_timeout_s: float = 60.0


@dataclass(frozen=True)
class ModelConfig:
    name: str
    path: Path  # the config file
    architecture: Path | None  # Keras model builder (None for a bring-your-own .tflite)
    dataset: DatasetConfig | None
    training: TrainingConfig | None
    representative_samples: int
    emulator: EmulatorConfig
    budgets: dict[str, float] = field(default_factory=dict)  # for `board` ([budgets] with its [budgets.<board>])
    reference: dict[str, int | float] = field(default_factory=dict)  # [reference]: what `invoke bench` compares with
    tflite: Path | None = None  # a bring-your-own model instead of training
    raw: dict[str, Any] = field(default_factory=dict)  # the whole file, for stage fingerprints
    board: str | None = None  # the board the budgets are for: [model] board, or --board (None: the default)

    def for_board(self, board: str) -> ModelConfig:
        """This config built for ``board``: [budgets] with the board's [budgets.<board>] over them."""
        own = self.raw.get("budgets", {}).get(board, {})
        budgets = {k: float(v) for k, v in self.raw.get("budgets", {}).items() if not isinstance(v, dict)}
        return replace(self, board=board, budgets={**budgets, **{k: float(v) for k, v in own.items()}})

    @property
    def build_dir(self) -> Path:
        return BUILD_DIR / self.name


_SECTIONS: dict[str, dict[str, tuple[type, ...]]] = {
    "model": {"name": (str,), "architecture": (str,), "description": (str,), "notes": (str,),
              "input_shape": (list,), "board": (str,)},
    "dataset": {
        "source": (str,),
        "test_fraction": (float,),
        "validation_fraction": (float,),
        "seed": (int,),
        "samples": (int,),
        "input_shape": (list,),
        "classes": (int,),
    },
    "training": {"epochs": (int,), "batch_size": (int,), "learning_rate": (float,), "seed": (int,)},
    "quantization": {"representative_samples": (int,)},
    # RAM the generator may add to the arena to stage CONV_2D filters in SRAM (speed for RAM); without
    # it, filters are staged only into arena bytes that are free during their layer. ram_constants_bytes:
    # constants read once per inference (FULLY_CONNECTED filters) the DSP build may run from RAM, copied
    # from flash at boot (.data), on boards whose board.toml allows it (ram_constants).
    "codegen": {"arena_limit_bytes": (int,), "ram_constants_bytes": (int,)},
    "emulator": {"wall_timeout_s": (float, int), "emulated_timeout_s": (float, int)},
    # The budget keys of the figure registry (pipeline/figures.py): _allowed_keys; a [budgets.<board>]
    # table (a folder of firmware/boards/) holds the keys whose budget differs on that board.
    "budgets": {},
    # What `invoke bench` compares against: TFLM with CMSIS-NN's instruction count for the same
    # architecture (same QEMU method) and the performance target derived from it; target_cycle_ratio:
    # the most ours / TFLM + CMSIS-NN in estimated cycles may be (the peer firmware of ../shared/peer-tflm/);
    # tflm_cmsis_nn_cycles: that firmware's estimate, so that the cycle budget can be held to the target.
    "reference": {"tflm_cmsis_nn_instructions": (int,), "target_instructions": (int,),
                  "target_cycle_ratio": (float,), "tflm_cmsis_nn_cycles": (int,)},
    # `invoke compress`: the candidates (every combination of the lists) and how they are fine-tuned;
    # values are checked by pipeline/compress/search.py.
    "compress": {"ratios": (list,), "methods": (list,), "qat": (list,), "distill": (list,), "epochs": (int,),
                 "learning_rate": (float,), "temperature": (float,), "alpha": (float,), "workers": (int,),
                 "apply": (bool,)},
}


def _allowed_keys(section: str) -> dict[str, tuple[type, ...]]:
    if section == "budgets":
        return {key: (float, int) for key in budget_keys()}
    return _SECTIONS[section]


def _check_types(path: Path, data: dict[str, Any]) -> None:
    for section, value in data.items():
        if section not in _SECTIONS:
            raise ConfigError(f"{path}: unknown section [{section}]; expected one of {', '.join(_SECTIONS)}")
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        allowed = _allowed_keys(section)
        for key, item in value.items():
            if section == "budgets" and isinstance(item, dict):
                _check_board_budgets(path, key, item)
                continue
            if key not in allowed:
                raise ConfigError(
                    f"{path}: unknown key '{key}' in [{section}] (mistyped?); expected one of {', '.join(allowed)}"
                )
            types = allowed[key]
            ok = isinstance(item, types) and (bool in types or not isinstance(item, bool))
            if float in types and isinstance(item, int) and not isinstance(item, bool):
                ok = True
            if not ok:
                expected = "a number" if float in types else types[0].__name__
                raise ConfigError(f"{path}: [{section}] {key} = {item!r} must be {expected}")


def _known_board(path: Path, board: str, where: str) -> None:
    from pipeline.boards import board_names

    if board not in board_names():
        raise ConfigError(f"{path}: {where}: no board '{board}'; boards: {', '.join(board_names())}")


def _check_board_budgets(path: Path, board: str, budgets: dict[str, Any]) -> None:
    _known_board(path, board, f"[budgets.{board}]")
    for key, item in budgets.items():
        if isinstance(item, dict):
            raise ConfigError(f"{path}: [budgets.{board}] {key}: want a budget key, not a table")
    _check_types(path, {"budgets": budgets})


def _require(path: Path, data: dict[str, Any], section: str, key: str) -> Any:
    try:
        return data[section][key]
    except KeyError:
        raise ConfigError(f"{path}: missing key '{key}' in [{section}]") from None


def read_toml(path: Path, kind: str) -> dict[str, Any]:
    """The TOML file at ``path`` (a ``kind`` file: "config", "board"), or a ConfigError naming it."""
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: {kind} file not found") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None


def load_config(path: Path) -> ModelConfig:
    data = read_toml(path, "config")
    _check_types(path, data)
    name = _require(path, data, "model", "name")
    shape = data["model"].get("input_shape")
    if shape is not None and not (shape and all(isinstance(d, int) and not isinstance(d, bool) and d > 0
                                                 for d in shape)):
        raise ConfigError(f"{path}: [model] input_shape = {shape!r} must be a list of positive integers, "
                          "e.g. [1, 8, 8, 1]")
    trained = "architecture" in data.get("model", {})
    dataset = training = None
    architecture = None
    if trained:
        architecture = path.parent / data["model"]["architecture"]
        dataset = DatasetConfig(
            source=_require(path, data, "dataset", "source"),
            test_fraction=float(_require(path, data, "dataset", "test_fraction")),
            validation_fraction=float(_require(path, data, "dataset", "validation_fraction")),
            seed=int(_require(path, data, "dataset", "seed")),
            samples=int(data["dataset"].get("samples", 0)),
            input_shape=tuple(int(v) for v in data["dataset"].get("input_shape", ())),
            classes=int(data["dataset"].get("classes", 0)),
        )
        if not data.get("training"):
            raise ConfigError(f"{path}: missing section [training]")
        training = TrainingConfig(
            epochs=int(_require(path, data, "training", "epochs")),
            batch_size=int(_require(path, data, "training", "batch_size")),
            learning_rate=float(_require(path, data, "training", "learning_rate")),
            seed=int(_require(path, data, "training", "seed")),
        )
    emu = data.get("emulator", {})
    return ModelConfig(
        name=name,
        path=path,
        architecture=architecture,
        dataset=dataset,
        training=training,
        representative_samples=int(data.get("quantization", {}).get("representative_samples", 100)),
        emulator=EmulatorConfig(float(emu.get("wall_timeout_s", 120.0)), float(emu.get("emulated_timeout_s", 60.0))),
        reference=dict(data.get("reference", {})),
        raw=data,
    ).for_board(_model_board(path, data))


def _model_board(path: Path, data: dict[str, Any]) -> str:
    """[model] board, checked; the default board when absent."""
    from pipeline.boards import DEFAULT_BOARD

    board = data.get("model", {}).get("board", DEFAULT_BOARD)
    _known_board(path, board, "[model] board")
    return str(board)


def model_config(name: str) -> ModelConfig:
    path = MODELS_DIR / name / "config.toml"
    if not path.exists():
        available = sorted(p.parent.name for p in MODELS_DIR.glob("*/config.toml"))
        raise ConfigError(f"no model '{name}': {path} does not exist; models: {', '.join(available)}")
    return load_config(path)
