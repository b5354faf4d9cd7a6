"""Relations: people at matching accounts, opportunities at their account, campaign members."""

import pytest

from audiences.criteria import criteria_parse
from audiences.selectors import connection_fields, criteria_records


@pytest.fixture
def org(ready_connection, record_factory):
    c, make = ready_connection, record_factory
    tech_us = make(c, "Account", Industry="Technology", BillingCountry="United States")
    tech_uk = make(c, "Account", Industry="Technology", BillingCountry="United Kingdom")
    retail = make(c, "Account", Industry="Retail", BillingCountry="United States")
    gone = make(
        c, "Account", Industry="Technology", BillingCountry="United States", is_deleted=True
    )
    records = {
        "tech_us": tech_us,
        "tech_uk": tech_uk,
        "retail": retail,
        "ada": make(c, "Contact", AccountId=tech_us.sf_id, Title="CTO"),
        "bob": make(c, "Contact", AccountId=tech_uk.sf_id, Title="CTO"),
        "cy": make(c, "Contact", AccountId=retail.sf_id, Title="CEO"),
        "orphan": make(c, "Contact", AccountId=gone.sf_id, Title="CTO"),
        "lead_conv": make(c, "Lead", ConvertedAccountId=tech_us.sf_id, Status="Closed - Converted"),
        "lead_open": make(c, "Lead", ConvertedAccountId=None, Status="Open - Not Contacted"),
    }
    make(
        c,
        "Opportunity",
        AccountId=tech_uk.sf_id,
        StageName="Negotiation",
        Amount=80000,
        IsClosed=False,
        CloseDate="2026-12-01",
    )
    make(
        c,
        "Opportunity",
        AccountId=retail.sf_id,
        StageName="Closed Won",
        Amount=90000,
        IsClosed=True,
        CloseDate="2026-01-15",
    )
    make(
        c,
        "Opportunity",
        AccountId=tech_us.sf_id,
        StageName="Negotiation",
        Amount=10000,
        IsClosed=False,
        CloseDate="2026-12-01",
    )
    make(
        c,
        "Opportunity",
        AccountId=tech_us.sf_id,
        StageName="Negotiation",
        Amount=99000,
        IsClosed=False,
        is_deleted=True,
    )
    campaign = make(c, "Campaign", Name="Webinar")
    records["campaign"] = campaign
    make(
        c,
        "CampaignMember",
        CampaignId=campaign.sf_id,
        ContactId=records["ada"].sf_id,
        LeadId=None,
        Status="Responded",
    )
    make(
        c,
        "CampaignMember",
        CampaignId=campaign.sf_id,
        ContactId=records["cy"].sf_id,
        LeadId=None,
        Status="Sent",
    )
    make(
        c,
        "CampaignMember",
        CampaignId=campaign.sf_id,
        ContactId=None,
        LeadId=records["lead_open"].sf_id,
        Status="Responded",
    )
    make(
        c,
        "CampaignMember",
        CampaignId=campaign.sf_id,
        ContactId=records["bob"].sf_id,
        LeadId=None,
        Status="Responded",
        is_deleted=True,
    )
    return records


def _match(connection, org, target, holds, *children, match="all"):
    raw = {"type": "group", "match": match, "children": list(children)}
    tree = criteria_parse(raw, fields=connection_fields(connection=connection), holds=holds)
    found = set(criteria_records(connection=connection, target=target, tree=tree))
    return {name for name, record in org.items() if record in found}


def _c(obj, field, op, value=None):
    return {"type": "condition", "object": obj, "field": field, "operator": op, "value": value}


def _opp(*conditions):
    return {"type": "related", "object": "Opportunity", "conditions": list(conditions)}


def _member(*conditions):
    return {"type": "related", "object": "CampaignMember", "conditions": list(conditions)}


def test_contacts_whose_account_matches(ready_connection, org):
    found = _match(
        ready_connection,
        org,
        "Contact",
        "people",
        _c("Account", "Industry", "equals", "Technology"),
        _c("Account", "BillingCountry", "equals", "United States"),
    )
    assert found == {"ada"}  # the orphan's account is deleted


def test_account_conditions_in_an_or_group(ready_connection, org):
    found = _match(
        ready_connection,
        org,
        "Contact",
        "people",
        _c("Account", "BillingCountry", "equals", "United Kingdom"),
        _c("Account", "Industry", "equals", "Retail"),
        match="any",
    )
    assert found == {"bob", "cy"}


def test_leads_match_accounts_through_their_converted_account(ready_connection, org):
    found = _match(
        ready_connection, org, "Lead", "people", _c("Account", "Industry", "equals", "Technology")
    )
    assert found == {"lead_conv"}


def test_contact_conditions_never_match_leads(ready_connection, org):
    assert (
        _match(ready_connection, org, "Lead", "people", _c("Contact", "Title", "is_known")) == set()
    )


def test_contacts_at_accounts_with_an_open_opportunity_over_50000(ready_connection, org):
    found = _match(
        ready_connection,
        org,
        "Contact",
        "contacts",
        _opp(_c("Opportunity", "IsClosed", "is_false"), _c("Opportunity", "Amount", "gt", 50000)),
    )
    assert found == {"bob"}  # ada's big opportunity is deleted, her live one is small


def test_opportunity_conditions_hold_on_the_same_opportunity(ready_connection, org):
    found = _match(
        ready_connection,
        org,
        "Contact",
        "contacts",
        _opp(
            _c("Opportunity", "StageName", "equals", "Closed Won"),
            _c("Opportunity", "CloseDate", "between", ["2026-01-01", "2026-03-31"]),
        ),
    )
    assert found == {"cy"}


def test_companies_with_an_opportunity_and_with_a_matching_contact(ready_connection, org):
    with_opp = _match(
        ready_connection,
        org,
        "Account",
        "companies",
        _opp(_c("Opportunity", "Amount", "gt", 50000)),
    )
    assert with_opp == {"tech_uk", "retail"}
    with_ceo = _match(
        ready_connection, org, "Account", "companies", _c("Contact", "Title", "equals", "CEO")
    )
    assert with_ceo == {"retail"}


def test_campaign_members_optionally_with_member_status(ready_connection, org):
    campaign = org["campaign"].sf_id
    in_campaign = _member(_c("CampaignMember", "CampaignId", "any_of", [campaign]))
    assert _match(ready_connection, org, "Contact", "people", in_campaign) == {"ada", "cy"}
    assert _match(ready_connection, org, "Lead", "people", in_campaign) == {"lead_open"}
    responded = _member(
        _c("CampaignMember", "CampaignId", "equals", campaign),
        _c("CampaignMember", "Status", "equals", "Responded"),
    )
    assert _match(ready_connection, org, "Contact", "people", responded) == {"ada"}
    assert _match(ready_connection, org, "Account", "companies", responded) == {"tech_us"}


def test_records_of_another_connection_never_match(
    ready_connection, org, connection_factory, record_factory
):
    other = connection_factory(ready_connection.workspace)
    record_factory(other, "Contact", AccountId=org["tech_us"].sf_id, Title="CTO")
    found = _match(
        ready_connection,
        org,
        "Contact",
        "people",
        _c("Account", "Industry", "equals", "Technology"),
    )
    assert found == {"ada", "bob"}
