"""The plan on a hand-worked fixture (no CRM, no engine): only differences, numbers equal within a millionth,
missing equals only missing, records the CRM lacks counted and never planned; the write-back settings report a
wrong target with file:line."""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.definitions.writeback import check_writeback_settings, writeback_settings
from revalign.errors import ConfigError
from revalign.sources.writeback import Change, plan_changes

TARGETS = {"lead_score": ("Lead", "Score__c"), "audited_source": ("Opportunity", "Source__c")}


def test_only_differences_of_records_the_crm_has_are_planned() -> None:
    desired = pd.DataFrame(
        [
            ("lead_score", "L1", 55.0),  # CRM holds 55.0000001: the same number
            ("lead_score", "L2", 40.0),  # CRM holds 45: a change
            ("lead_score", "L3", 10.0),  # CRM holds nothing: a change from None
            ("lead_score", "L9", 99.0),  # not a CRM lead: counted, not planned
            ("audited_source", "O1", "paid_search"),  # CRM holds it already
            ("audited_source", "O2", "webinar"),  # CRM holds email: a change
        ],
        columns=["value_name", "record_id", "value"],
    )
    current = {
        "Lead": pd.DataFrame({"Id": ["L1", "L2", "L3", "L4"], "Score__c": [55.0000001, 45.0, None, 1.0]}),
        "Opportunity": pd.DataFrame({"Id": ["O1", "O2"], "Source__c": ["paid_search", "email"]}),
    }
    plan = plan_changes("salesforce", desired, current, TARGETS)
    assert plan.changes == (
        Change("Lead", "L2", "Score__c", "lead_score", 45.0, 40.0),
        Change("Lead", "L3", "Score__c", "lead_score", None, 10.0),
        Change("Opportunity", "O2", "Source__c", "audited_source", "email", "webinar"),
    )
    assert plan.unchanged == {"lead_score": 1, "audited_source": 1}
    assert plan.not_in_crm == {"lead_score": 1, "audited_source": 0}
    assert plan.records() == {("Lead", "L2"): {"Score__c": 40.0}, ("Lead", "L3"): {"Score__c": 10.0},
                              ("Opportunity", "O2"): {"Source__c": "webinar"}}  # fmt: skip
    assert plan_changes("salesforce", desired.iloc[[0, 4]], current, TARGETS).empty


def test_defaults_and_a_disabled_value() -> None:
    targets = writeback_settings({"salesforce": {"fields": {"marketing_credit": None}}}).salesforce.targets()
    assert targets == {"lead_score": ("Lead", "Revalign_Score__c"),
                       "audited_source": ("Opportunity", "Revalign_Audited_Source__c")}  # fmt: skip


def test_wrong_targets_are_reported_with_file_and_line(tmp_path) -> None:
    text = (
        "engine: duckdb:///x.duckdb\n"
        "writeback:\n"
        "  salesforce:\n"
        "    fields:\n"
        "      lead_score: Opportunity.Score__c\n"
        "      audited_source: Opportunity.Credit__c\n"
        "      marketing_credit: Opportunity.Credit__c\n"
        "      deal_score: Opportunity.X__c\n"
    )
    (tmp_path / "revalign.yaml").write_text(text, encoding="utf-8")
    fields = {
        "lead_score": "Opportunity.Score__c",
        "audited_source": "Opportunity.Credit__c",
        "marketing_credit": "Opportunity.Credit__c",
        "deal_score": "Opportunity.X__c",
    }
    raw = {"salesforce": {"fields": fields}}
    _, issues = check_writeback_settings(raw, tmp_path / "revalign.yaml")
    found = {(i.rule, i.line, i.path.rsplit(".", 1)[-1]) for i in issues if i.path}
    assert found == {
        ("writeback_targets", 5, "lead_score"),  # a lead's value on Opportunity
        ("writeback_targets", 8, "deal_score"),  # not a value revalign writes
        ("writeback_distinct", 7, "marketing_credit"),  # the same field as audited_source
    }
    with pytest.raises(ConfigError, match="must be on Lead"):
        writeback_settings(raw)
    with pytest.raises(ConfigError, match="batch_size"):
        writeback_settings({"salesforce": {"batch_size": 500}})


def test_hubspot_targets_default_to_contact_and_deal_properties_and_are_checked() -> None:
    settings = writeback_settings({"hubspot": {"fields": {"audited_source": "deals.source_audited"}}})
    assert settings.hubspot.targets() == {"lead_score": ("contacts", "revalign_score"),
                                          "audited_source": ("deals", "source_audited"),
                                          "marketing_credit": ("deals", "revalign_marketing_credit")}  # fmt: skip
    assert settings.hubspot.batch_size == 100
    _, issues = check_writeback_settings({"hubspot": {"fields": {"lead_score": "deals.revalign_score"}}})
    assert [(i.rule, i.path) for i in issues] == [("writeback_targets", "writeback.hubspot.fields.lead_score")]
    with pytest.raises(ConfigError, match="must be on contacts"):
        writeback_settings({"hubspot": {"fields": {"lead_score": "deals.revalign_score"}}})
    with pytest.raises(ConfigError, match="batch_size"):
        writeback_settings({"hubspot": {"batch_size": 101}})  # HubSpot's batch update takes 100 at most
