"""Data engineering pipeline: raw CSVs -> validated tables, rejected rows, model-input table.

Order matters for users: ``rejected_rows`` and ``data_quality_report`` are saved before the
quality gate can fail the run, and the published tables (and the model-input table, built
from them) wait for the gate, so a failed run leaves the evidence behind and nothing
half-trusted for training to pick up.
"""

from __future__ import annotations

from functools import partial, update_wrapper

from kedro.pipeline import Pipeline, node, pipeline

from future_skills_kedro.contract import RAW_FILES

from .nodes import (
    build_data_quality_report,
    build_model_input_table,
    check_label_signals,
    check_referential_integrity,
    collect_rejected_rows,
    count_kept_rows,
    enforce_rejected_share_limit,
    publish_validated_tables,
    validate_raw_file,
)

# The label history: validated by the pipelines that learn from it, not by inference.
LABELS = "skill_need_labels"
# The tables published as ``validated_<file>`` for inference to build features from.
VALIDATED_TABLES = (
    "job_roles",
    "skills",
    "market_signals",
    "economic_indicators",
    "internal_signals",
)


def _validate_file_node(file: str):
    validate = update_wrapper(partial(validate_raw_file, file=file), validate_raw_file)
    return node(
        validate,
        inputs={
            "raw": file,
            "require_quarter_end_dates": "params:data_engineering.require_quarter_end_dates",
        },
        outputs=[f"schema_checked_{file}", f"{file}_schema_rejections", f"{file}_profile"],
        name=f"validate_{file}",
        tags=["validation"],
    )


def create_pipeline(*, labels: bool = True, **kwargs) -> Pipeline:
    """Validate, quarantine, gate on the rejected share, join as of each label's date.

    ``labels=False``: the signal and dimension files only, for inference: it scores from the
    ``validated_*`` tables and never reads the label history, so it neither validates nor
    gates it (millions of rows in a large organisation); the report then covers those files.
    """
    files = [file for file in RAW_FILES if labels or file != LABELS]
    label_nodes = [
        node(
            check_label_signals,
            inputs=[
                f"referenced_{LABELS}",
                *(f"referenced_{file}" for file in VALIDATED_TABLES),
            ],
            outputs=["labels_with_signals", "as_of_join_rejections"],
            name="check_label_signals",
            tags=["validation"],
        ),
        node(
            build_model_input_table,
            inputs=[
                "labels_with_signals",
                *(f"referenced_{file}" for file in VALIDATED_TABLES),
                "data_quality_gate",
            ],
            outputs="model_input_table",
            name="build_model_input_table",
            tags=["features"],
        ),
    ]
    # The label inputs of the shared nodes, by parameter name, when the labels are validated.
    label_inputs = (
        {
            f"{LABELS}_profile": f"{LABELS}_profile",
            "labels_with_signals": "labels_with_signals",
        }
        if labels
        else {}
    )
    return pipeline(
        [
            *(_validate_file_node(file) for file in files),
            node(
                check_referential_integrity,
                inputs=[f"schema_checked_{file}" for file in files],
                outputs=[*(f"referenced_{file}" for file in files), "referential_rejections"],
                name="check_referential_integrity",
                tags=["validation"],
            ),
            *(label_nodes if labels else []),
            node(
                collect_rejected_rows,
                inputs=[
                    *(f"{file}_schema_rejections" for file in files),
                    "referential_rejections",
                    *(["as_of_join_rejections"] if labels else []),
                ],
                outputs=["rejected_rows", "rejection_records"],
                name="collect_rejected_rows",
                tags=["validation"],
            ),
            node(
                count_kept_rows,
                inputs={
                    **{file: f"referenced_{file}" for file in VALIDATED_TABLES},
                    **({"labels_with_signals": "labels_with_signals"} if labels else {}),
                },
                outputs="kept_row_counts",
                name="count_kept_rows",
                tags=["validation"],
            ),
            node(
                build_data_quality_report,
                inputs={
                    **{f"{file}_profile": f"{file}_profile" for file in VALIDATED_TABLES},
                    "kept_row_counts": "kept_row_counts",
                    "rejection_records": "rejection_records",
                    "data_engineering": "params:data_engineering",
                    **label_inputs,
                },
                outputs="data_quality_report",
                name="build_data_quality_report",
                tags=["validation", "reporting"],
            ),
            node(
                enforce_rejected_share_limit,
                inputs=[
                    "data_quality_report",
                    "rejected_rows",
                    "params:data_engineering.failure_cases_in_error",
                ],
                outputs="data_quality_gate",
                name="enforce_rejected_share_limit",
                tags=["validation"],
            ),
            node(
                publish_validated_tables,
                inputs=["data_quality_gate", *(f"referenced_{file}" for file in VALIDATED_TABLES)],
                outputs=[f"validated_{file}" for file in VALIDATED_TABLES],
                name="publish_validated_tables",
                tags=["validation"],
            ),
        ],
        tags="data_engineering",
        # Groups the nodes for kedro viz; dataset names stay the catalog's.
        namespace="data_engineering",
        prefix_datasets_with_namespace=False,
    )
