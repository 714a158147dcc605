"""The kinds of project mlscaffold generates: the one list behind `list`, the template's
`kind` question, the docs and the test matrix.

`templates/_kinds.yml` (the `kind` question and each kind's reserved package names) is
generated from this list by `python scripts/sync_kinds.py`; a test fails when it is stale.
A kind is offered only when its template issue has made it complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlscaffold.errors import UnknownKindError

# The public answer names every kind shares (scripts, presets and answers files use them).
SHARED_ANSWERS: tuple[str, ...] = (
    "kind",
    "project_name",
    "package_name",
    "description",
    "author_name",
    "author_email",
    "github_user",
    "repository_name",
    "hf_user",
    "license",
    "python_version",
)

# Names no generated package may take, whatever its kind: keywords aside (the validator
# checks those), these would shadow modules every project imports.
SHARED_RESERVED: tuple[str, ...] = (
    "test",
    "tests",
    "src",
    "data",
    "models",
    "configs",
    "json",
    "csv",
    "os",
    "sys",
    "string",
    "random",
    "math",
    "time",
    "typing",
    "collections",
    "logging",
    "pathlib",
    "yaml",
    "numpy",
    "pandas",
    "matplotlib",
    "pydantic",
    "pytest",
    # the serve extra (`make serve`) and its test client
    "fastapi",
    "fastapi_offline",
    "prometheus_client",
    "uvicorn",
    "starlette",
    "multipart",
    "python_multipart",
    "httpx",
    # the demo extra (`make demo`, `make space`) and the screenshot's browser driver
    "gradio",
    "gradio_client",
    "huggingface_hub",
    "selenium",
)


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    summary: str
    complete: bool
    answers: tuple[str, ...] = ()  # the kind's own public answer names
    reserved: tuple[str, ...] = ()  # package names that would shadow what the kind imports
    variants: tuple[dict[str, Any], ...] = field(default=({},))  # rows of the test matrix
    heavy: bool = False  # its projects need PyTorch: full test matrix only in CI
    path_answers: tuple[str, ...] = ()  # answers naming a local file that must exist


KINDS: tuple[Kind, ...] = (
    Kind(
        name="sentiment-classifier",
        title="Sentiment classifier (text)",
        summary="text classification: NBSVM (NB-weighted n-grams + linear SVM) or TF-IDF + "
        "logistic regression (transformer option); IMDB, SST-2, UCI sentences or your CSV",
        complete=True,
        answers=("sentiment_dataset", "uci_source", "csv_source", "text_column", "label_column"),
        reserved=("sklearn", "scipy", "joblib", "pooch", "torch", "transformers", "tokenizers"),
        variants=(
            {"sentiment_dataset": "imdb"},
            {"sentiment_dataset": "sst2"},
            {"sentiment_dataset": "uci"},
            {"sentiment_dataset": "csv"},
        ),
        path_answers=("csv_source",),
    ),
    Kind(
        name="image-classifier",
        title="Image classifier (PyTorch)",
        summary="PyTorch CNN (ResNet-18 fine-tuning option) with augmentation, early stopping, "
        "DDP via torchrun and ONNX export; Fashion-MNIST, MNIST, CIFAR-10 or your own folders",
        complete=True,
        answers=("image_dataset", "image_folder"),
        reserved=("torch", "torchvision", "onnx", "onnxruntime", "PIL", "sklearn", "scipy"),
        variants=(
            {"image_dataset": "fashion-mnist"},
            {"image_dataset": "mnist"},
            {"image_dataset": "cifar10"},
            {"image_dataset": "folder"},
        ),
        heavy=True,
        path_answers=("image_folder",),
    ),
    Kind(
        name="recommender",
        title="Recommender (ratings and top-N)",
        summary="biased matrix factorisation (ALS) for ratings, EASE for top-N, popularity "
        "baselines, Spark ALS option; MovieLens 100K/latest-small/1M or your own CSV",
        complete=True,
        answers=(
            "recommender_dataset",
            "interactions_source",
            "user_column",
            "item_column",
            "rating_column",
            "timestamp_column",
        ),
        reserved=("scipy", "sklearn", "pyspark", "joblib"),
        variants=(
            {"recommender_dataset": "ml-100k"},
            {"recommender_dataset": "ml-latest-small"},
            {"recommender_dataset": "ml-1m"},
            {"recommender_dataset": "csv"},
        ),
        path_answers=("interactions_source",),
    ),
    Kind(
        name="kaggle-entry",
        title="Kaggle competition entry (tabular)",
        summary="tabular competition: feature engineering, linear baseline and gradient "
        "boosting with K-fold CV, validated submission, Kaggle CLI; Titanic by default",
        complete=True,
        answers=("competition", "target_column", "id_column", "task", "metric"),
        reserved=("sklearn", "scipy", "kaggle", "optuna", "joblib"),
        variants=(
            {},
            {
                "competition": "forest-cover-type-prediction",
                "target_column": "Cover_Type",
                "id_column": "Id",
                "task": "multiclass",
                "metric": "accuracy",
            },
            {
                "competition": "house-prices-advanced-regression-techniques",
                "target_column": "SalePrice",
                "id_column": "Id",
                "task": "regression",
                "metric": "rmse_log",
            },
        ),
    ),
    Kind(
        name="forecaster",
        title="Time-series forecaster",
        summary="time-series forecasting: AutoETS, AutoTheta, MSTL and their ensemble "
        "(statsforecast), global LightGBM option (mlforecast), Spark option (fugue), "
        "rolling-origin CV, M4 metrics against seasonal naive and Naive2; Tourism Monthly "
        "(Monash) or your own CSV",
        complete=True,
        answers=(
            "forecast_dataset",
            "series_source",
            "freq",
            "season_length",
            "horizon",
            "model_family",
            "engine",
        ),
        reserved=(
            "statsforecast",
            "utilsforecast",
            "mlforecast",
            "lightgbm",
            "sklearn",
            "scipy",
            "joblib",
            "pyspark",
            "fugue",
            "coreforecast",
            "window_ops",
            "numba",
        ),
        variants=(
            {"forecast_dataset": "tourism-monthly"},
            {"forecast_dataset": "csv"},
            {"model_family": "lightgbm"},
        ),
        path_answers=("series_source",),
    ),
)


def available() -> list[Kind]:
    """Kinds a user can generate today."""
    return [kind for kind in KINDS if kind.complete]


def get(name: str) -> Kind:
    for kind in available():
        if kind.name == name:
            return kind
    raise UnknownKindError(name, [kind.name for kind in available()])


def public_answers() -> list[str]:
    """Every public answer name, shared ones first: the stable interface of presets."""
    names = list(SHARED_ANSWERS)
    for kind in available():
        names += [name for name in kind.answers if name not in names]
    return names


def kinds_yaml() -> str:
    """The text of templates/_kinds.yml: the `kind` question and the reserved names."""
    import json

    import yaml

    kinds = available()
    question = {
        "kind": {
            "type": "str",
            "help": "What kind of project?",
            "choices": {kind.title: kind.name for kind in kinds},
            "default": kinds[0].name,
        },
        "reserved_package_names": {
            "type": "yaml",
            "when": False,  # computed, never asked or recorded
            "default": json.dumps(
                {kind.name: sorted(set(SHARED_RESERVED) | set(kind.reserved)) for kind in kinds}
            ),
        },
    }
    header = (
        "# Generated from src/mlscaffold/catalog.py by scripts/sync_kinds.py: do not edit.\n"
        "# The `kind` question and, per kind, package names that would shadow its imports.\n"
    )
    return header + yaml.safe_dump(question, sort_keys=False, allow_unicode=True, width=100)
