"""Account, Contact, Lead and Opportunity, modelled on the recorded describes."""

from __future__ import annotations

from emulator.schema.fields import FieldDef as F
from emulator.schema.objects import (
    CLEAN_STATUS,
    INDUSTRIES,
    LEAD_SOURCES,
    RATINGS,
    ObjectDef,
    activity_fields,
    address_fields,
    deleted_and_id,
    person_name_fields,
    system_fields,
)

ACCOUNT_TYPES = (
    "Prospect",
    "Customer - Direct",
    "Customer - Channel",
    "Channel Partner / Reseller",
    "Installation Partner",
    "Technology Partner",
    "Other",
)
OWNERSHIP = ("Public", "Private", "Subsidiary", "Other")
LEAD_STATUS = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
)
STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)
OPP_TYPES = (
    "Existing Customer - Upgrade",
    "Existing Customer - Replacement",
    "Existing Customer - Downgrade",
    "New Customer",
)
FORECAST_CATEGORY = ("Omitted", "Pipeline", "BestCase", "MostLikely", "Forecast", "Closed")
FORECAST_CATEGORY_NAME = ("Omitted", "Pipeline", "Best Case", "Commit", "Closed")
INTERESTS = ("Analytics", "Security", "Cloud Migration", "Integration", "AI", "Compliance")
LANGUAGES = ("English", "Spanish", "French", "German", "Portuguese", "Japanese")
COMPETITORS = ("None", "Acme Cloud", "Globex Software", "Initech", "Umbrella Systems")

READ_ONLY = {"createable": False, "updateable": False}


def _jigsaw(kind: str) -> list[F]:
    return [
        F("Jigsaw", "string", "Data.com Key", length=20),
        F(
            f"Jigsaw{kind}Id",
            "string",
            f"Jigsaw {kind} ID",
            length=20,
            rel=f"Jigsaw{kind}",
            **READ_ONLY,
        ),
        F("CleanStatus", "picklist", "Clean Status", length=40, values=CLEAN_STATUS),
    ]


def account() -> ObjectDef:
    fields = [
        *deleted_and_id("Account"),
        F("MasterRecordId", "reference", ref="Account", rel="MasterRecord", **READ_ONLY),
        F(
            "Name",
            "string",
            "Account Name",
            length=255,
            nillable=False,
            compound="Name",
            overrides={"extraTypeInfo": "switchablepersonname", "nameField": True},
        ),
        F("Type", "picklist", "Account Type", length=40, values=ACCOUNT_TYPES),
        F("ParentId", "reference", "Parent Account ID", ref="Account", rel="Parent"),
        *address_fields("Billing", "Billing"),
        *address_fields("Shipping", "Shipping"),
        F("Phone", "phone", "Account Phone"),
        F("Fax", "phone", "Account Fax"),
        F("AccountNumber", "string", "Account Number", length=40),
        F("Website", "url", "Website"),
        F("PhotoUrl", "url", "Photo URL", overrides={"extraTypeInfo": "imageurl"}, **READ_ONLY),
        F("Sic", "string", "SIC Code", length=20),
        F("Industry", "picklist", "Industry", length=40, values=INDUSTRIES),
        F("AnnualRevenue", "currency", "Annual Revenue", scale=0),
        F("NumberOfEmployees", "int", "Employees", digits=8),
        F("Ownership", "picklist", "Ownership", length=40, values=OWNERSHIP),
        F("TickerSymbol", "string", "Ticker Symbol", length=20),
        F("Description", "textarea", "Account Description", length=32000),
        F("Rating", "picklist", "Account Rating", length=40, values=RATINGS),
        F("Site", "string", "Account Site", length=80),
        F("OwnerId", "reference", "Owner ID", ref="User", rel="Owner", nillable=False),
        *system_fields(),
        *activity_fields(),
        *_jigsaw("Company"),
        F("AccountSource", "picklist", "Account Source", length=40, values=LEAD_SOURCES),
        F("DunsNumber", "string", "D-U-N-S Number", length=9),
        F("Tradestyle", "string", "Tradestyle", length=255),
        F("NaicsCode", "string", "NAICS Code", length=8),
        F("NaicsDesc", "string", "NAICS Description", length=120),
        F("YearStarted", "string", "Year Started", length=4),
        F("SicDesc", "string", "SIC Description", length=80),
        F("Customer_Since__c", "date", "Customer Since"),
        F(
            "Account_Tier__c",
            "string",
            "Account Tier",
            length=1300,
            formula=(
                'IF(AnnualRevenue >= 100000000, "Enterprise", '
                'IF(AnnualRevenue >= 10000000, "Mid-Market", "SMB"))'
            ),
        ),
        F(
            "Location__Latitude__s",
            "double",
            "Location (Latitude)",
            scale=15,
            compound="Location__c",
        ),
        F(
            "Location__Longitude__s",
            "double",
            "Location (Longitude)",
            scale=15,
            compound="Location__c",
        ),
        # Geolocation custom field: the compound is `type: location`, its components carry
        # compoundFieldName = Location__c (standard pattern; not in the recorded describes).
        F("Location__c", "location", "Location", scale=15),
    ]
    return ObjectDef(
        "Account",
        "001",
        "Account",
        "Accounts",
        fields,
        mergeable=True,
        feed_enabled=True,
        scopes=(
            ("everything", "All accounts"),
            ("mine", "My accounts"),
            ("team", "My team's accounts"),
        ),
    )


def contact() -> ObjectDef:
    fields = [
        *deleted_and_id("Contact"),
        F("MasterRecordId", "reference", ref="Contact", rel="MasterRecord", **READ_ONLY),
        F("AccountId", "reference", "Account ID", ref="Account", rel="Account"),
        *person_name_fields(),
        *address_fields("Other", "Other"),
        *address_fields("Mailing", "Mailing"),
        F("Phone", "phone", "Business Phone"),
        F("Fax", "phone", "Business Fax"),
        F("MobilePhone", "phone", "Mobile Phone"),
        F("HomePhone", "phone", "Home Phone"),
        F("OtherPhone", "phone", "Other Phone"),
        F("AssistantPhone", "phone", "Asst. Phone"),
        F("ReportsToId", "reference", "Reports To ID", ref="Contact", rel="ReportsTo"),
        F("Email", "email", "Email", overrides={"idLookup": True}),
        F("Title", "string", "Title", length=128),
        F("Department", "string", "Department", length=80),
        F("AssistantName", "string", "Assistant's Name", length=40),
        F("LeadSource", "picklist", "Lead Source", values=LEAD_SOURCES),
        F("Birthdate", "date", "Birthdate", createable=True, updateable=True),
        F("Description", "textarea", "Contact Description", length=32000),
        F("OwnerId", "reference", "Owner ID", ref="User", rel="Owner", nillable=False),
        F("HasOptedOutOfEmail", "boolean", "Email Opt Out", createable=True, updateable=True),
        F("HasOptedOutOfFax", "boolean", "Fax Opt Out", createable=True, updateable=True),
        F("DoNotCall", "boolean", "Do Not Call", createable=True, updateable=True),
        *system_fields(),
        *activity_fields(),
        F("EmailBouncedReason", "string", "Email Bounced Reason"),
        F("EmailBouncedDate", "datetime", "Email Bounced Date"),
        F("IsEmailBounced", "boolean", "Is Email Bounced", **READ_ONLY),
        F("PhotoUrl", "url", "Photo URL", overrides={"extraTypeInfo": "imageurl"}, **READ_ONLY),
        *_jigsaw("Contact"),
        F("IndividualId", "reference", "Individual ID", ref="Individual", rel="Individual"),
        F("LastCURequestDate", "datetime", "Last Stay-in-Touch Request Date", **READ_ONLY),
        F("LastCUUpdateDate", "datetime", "Last Stay-in-Touch Save Date", **READ_ONLY),
        F("Interests__c", "multipicklist", "Interests", values=INTERESTS),
        F("Lead_Score__c", "double", "Lead Score", precision=5, scale=0),
        F("Preferred_Language__c", "picklist", "Preferred Language", values=LANGUAGES),
        F("Newsletter_Opt_In__c", "boolean", "Newsletter Opt In", createable=True, updateable=True),
        F(
            "Email_Domain__c",
            "string",
            "Email Domain",
            length=1300,
            formula='MID(Email, FIND("@", Email) + 1, 255)',
        ),
    ]
    return ObjectDef(
        "Contact",
        "003",
        "Contact",
        "Contacts",
        fields,
        mergeable=True,
        feed_enabled=True,
        scopes=(
            ("everything", "All contacts"),
            ("mine", "My contacts"),
            ("team", "My team's contacts"),
        ),
    )


def lead() -> ObjectDef:
    fields = [
        *deleted_and_id("Lead"),
        F("MasterRecordId", "reference", ref="Lead", rel="MasterRecord", **READ_ONLY),
        *person_name_fields(),
        F("Title", "string", "Title", length=128),
        F("Company", "string", "Company", length=255, nillable=False),
        *address_fields("", ""),
        F("Phone", "phone", "Phone"),
        F("MobilePhone", "phone", "Mobile Phone"),
        F("Fax", "phone", "Fax"),
        F("Email", "email", "Email", overrides={"idLookup": True}),
        F("Website", "url", "Website"),
        F("PhotoUrl", "url", "Photo URL", overrides={"extraTypeInfo": "imageurl"}, **READ_ONLY),
        F("Description", "textarea", "Description", length=32000),
        F("LeadSource", "picklist", "Lead Source", values=LEAD_SOURCES),
        F(
            "Status",
            "picklist",
            "Status",
            values=LEAD_STATUS,
            default_value="Open - Not Contacted",
            nillable=False,
        ),
        F("Industry", "picklist", "Industry", values=INDUSTRIES),
        F("Rating", "picklist", "Rating", values=RATINGS),
        F("AnnualRevenue", "currency", "Annual Revenue", scale=0),
        F("NumberOfEmployees", "int", "Employees", digits=8),
        F(
            "OwnerId",
            "reference",
            "Owner ID",
            ref="User",
            rel="Owner",
            nillable=False,
            # A lead can be owned by a queue: polymorphic, as recorded.
            overrides={"referenceTo": ["Group", "User"], "polymorphicForeignKey": True},
        ),
        F("IsConverted", "boolean", "Converted", createable=True, updateable=False),
        F("ConvertedDate", "date", "Converted Date", **READ_ONLY),
        F("ConvertedAccountId", "reference", ref="Account", rel="ConvertedAccount", **READ_ONLY),
        F("ConvertedContactId", "reference", ref="Contact", rel="ConvertedContact", **READ_ONLY),
        F(
            "ConvertedOpportunityId",
            "reference",
            ref="Opportunity",
            rel="ConvertedOpportunity",
            **READ_ONLY,
        ),
        F("IsUnreadByOwner", "boolean", "Unread By Owner", createable=True, updateable=True),
        *system_fields(),
        *activity_fields(),
        *_jigsaw("Contact"),
        F("CompanyDunsNumber", "string", "Company D-U-N-S Number", length=9),
        F("EmailBouncedReason", "string", "Email Bounced Reason", createable=False),
        F("EmailBouncedDate", "datetime", "Email Bounced Date", createable=False),
        F("IndividualId", "reference", "Individual ID", ref="Individual", rel="Individual"),
        F("Product_Interest__c", "multipicklist", "Product Interest", values=INTERESTS),
        F("Lead_Score__c", "double", "Lead Score", precision=5, scale=0),
    ]
    return ObjectDef(
        "Lead",
        "00Q",
        "Lead",
        "Leads",
        fields,
        mergeable=True,
        feed_enabled=True,
        scopes=(
            ("everything", "All leads"),
            ("mine", "My leads"),
            ("queue_owned", "Queue owned leads"),
            ("team", "My team's leads"),
            ("user_owned", "User owned leads"),
        ),
        extra={"sobjectDescribeOption": "FULL"},
    )


def opportunity() -> ObjectDef:
    fields = [
        *deleted_and_id("Opportunity"),
        F("AccountId", "reference", "Account ID", ref="Account", rel="Account"),
        F("IsPrivate", "boolean", "Private", createable=True, updateable=True),
        F("Name", "string", "Name", length=120, nillable=False, overrides={"nameField": True}),
        F("Description", "textarea", "Description", length=32000),
        F("StageName", "picklist", "Stage", values=STAGES, nillable=False),
        F("Amount", "currency", "Amount"),
        F("Probability", "percent", "Probability (%)", overrides={"defaultedOnCreate": True}),
        F("ExpectedRevenue", "currency", "Expected Amount", **READ_ONLY),
        F("TotalOpportunityQuantity", "double", "Quantity", scale=2),
        F("CloseDate", "date", "Close Date", nillable=False, createable=True, updateable=True),
        F("Type", "picklist", "Opportunity Type", values=OPP_TYPES),
        F("NextStep", "string", "Next Step", length=255),
        F("LeadSource", "picklist", "Lead Source", values=LEAD_SOURCES),
        F("IsClosed", "boolean", "Closed", **READ_ONLY),
        F("IsWon", "boolean", "Won", **READ_ONLY),
        F(
            "ForecastCategory",
            "picklist",
            "Forecast Category",
            length=40,
            values=FORECAST_CATEGORY,
            nillable=False,
            **READ_ONLY,
        ),
        F("ForecastCategoryName", "picklist", "Forecast Category", values=FORECAST_CATEGORY_NAME),
        F("CampaignId", "reference", "Campaign ID", ref="Campaign", rel="Campaign"),
        F("HasOpportunityLineItem", "boolean", "Has Line Item", **READ_ONLY),
        F("OwnerId", "reference", "Owner ID", ref="User", rel="Owner", nillable=False),
        *system_fields(),
        F("LastActivityDate", "date", "Last Activity"),
        F("LastStageChangeDate", "datetime", "Last Stage Change Date", **READ_ONLY),
        F("FiscalQuarter", "int", "Fiscal Quarter", digits=8, compound="Fiscal", **READ_ONLY),
        F("FiscalYear", "int", "Fiscal Year", digits=8, compound="Fiscal", **READ_ONLY),
        F("Fiscal", "string", "Fiscal Period", length=6, overrides={"byteLength": 6}, **READ_ONLY),
        F("ContactId", "reference", "Contact ID", ref="Contact", createable=True, updateable=False),
        F("LastViewedDate", "datetime", "Last Viewed Date"),
        F("LastReferencedDate", "datetime", "Last Referenced Date"),
        F("Discount_Percent__c", "percent", "Discount Percent", precision=5, scale=2),
        F("Competitor__c", "picklist", "Main Competitor", values=COMPETITORS),
        F(
            "Weighted_Amount__c",
            "currency",
            "Weighted Amount",
            formula="Amount * Probability",
        ),
    ]
    return ObjectDef(
        "Opportunity",
        "006",
        "Opportunity",
        "Opportunities",
        fields,
        feed_enabled=True,
        deep_cloneable=True,
        scopes=(
            ("everything", "All opportunities"),
            ("mine", "My opportunities"),
            ("team", "My team's opportunities"),
        ),
        extra={"sobjectDescribeOption": "FULL"},
    )
