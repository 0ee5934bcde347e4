"""Small hand-made raw tables (text, as the CSVs are read) for the data engineering tests."""

from __future__ import annotations

import pandas as pd


def text_frame(header: str, *rows: str) -> pd.DataFrame:
    """A raw table as the catalog loads it: every value a string, empty cells as ''."""
    columns = header.split(",")
    return pd.DataFrame([row.split(",") for row in rows], columns=columns, dtype="str")


def valid_raw_tables() -> dict[str, pd.DataFrame]:
    """Six consistent raw tables: two roles, two skills, signals before every label date."""
    return {
        "job_roles": text_frame(
            "job_role_id,job_role_name,department,seniority",
            "R1,Data Scientist,Data,senior",
            "R2,Backend Engineer,Engineering,mid",
        ),
        "skills": text_frame(
            "skill_id,skill_name,skill_category",
            "S1,Python,programming",
            "S2,SQL,data",
        ),
        "market_signals": text_frame(
            "skill_id,as_of_date,trend_score,scarcity_index,hiring_difficulty,avg_salary_k",
            "S1,2021-12-31,0.10,0.20,0.30,100",
            "S1,2022-06-30,0.60,0.70,0.80,120",
            "S2,2021-12-31,0.40,0.50,0.60,90",
        ),
        "economic_indicators": text_frame(
            "department,as_of_date,economic_indicator",
            "Data,2021-12-31,0.55",
            "Engineering,2021-12-31,0.45",
            "Data,2022-06-30,0.65",
        ),
        "internal_signals": text_frame(
            "job_role_id,skill_id,as_of_date,internal_usage,training_requests",
            "R1,S1,2021-12-31,0.30,4",
            "R1,S2,2021-12-31,0.20,0",
            "R2,S1,2021-12-31,0.90,12",
        ),
        "skill_need_labels": text_frame(
            "job_role_id,skill_id,horizon_years,as_of_date,future_need_level",
            "R1,S1,1,2022-03-31,HIGH",
            "R1,S1,3,2022-06-30,MEDIUM",
            "R1,S2,5,2022-03-31,LOW",
            "R2,S1,1,2022-03-31,HIGH",
        ),
    }


def schema_checked(raw: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Typed valid rows of each raw table (the schema step only)."""
    from future_skills_kedro.pipelines.data_engineering.nodes import validate_raw_file

    return {file: validate_raw_file(table, file)[0] for file, table in raw.items()}
