"""Campaign, CampaignMember, User, Document and the small system objects."""

from __future__ import annotations

from emulator.schema.fields import FieldDef as F
from emulator.schema.objects import (
    LEAD_SOURCES,
    ObjectDef,
    activity_fields,
    address_fields,
    deleted_and_id,
    system_fields,
)

CAMPAIGN_TYPES = (
    "Conference",
    "Webinar",
    "Trade Show",
    "Public Relations",
    "Partners",
    "Referral Program",
    "Advertisement",
    "Banner Ads",
    "Direct Mail",
    "Email",
    "Telemarketing",
    "Other",
)
CAMPAIGN_STATUS = ("Planned", "In Progress", "Completed", "Aborted")
MEMBER_STATUS = ("Sent", "Responded")
READ_ONLY = {"createable": False, "updateable": False}


def campaign() -> ObjectDef:
    fields = [
        *deleted_and_id("Campaign"),
        F("Name", "string", "Name", length=80, nillable=False, overrides={"nameField": True}),
        F("ParentId", "reference", "Parent Campaign ID", ref="Campaign", rel="Parent"),
        F("Type", "picklist", "Type", values=CAMPAIGN_TYPES),
        F("Status", "picklist", "Status", values=CAMPAIGN_STATUS),
        F("StartDate", "date", "Start Date", createable=True, updateable=True),
        F("EndDate", "date", "End Date", createable=True, updateable=True),
        F("ExpectedRevenue", "currency", "Expected Revenue in Campaign", scale=0),
        F("BudgetedCost", "currency", "Budgeted Cost in Campaign", scale=0),
        F("ActualCost", "currency", "Actual Cost in Campaign", scale=0),
        F("ExpectedResponse", "percent", "Expected Response (%)", precision=10, scale=2),
        F("NumberSent", "double", "Num Sent in Campaign", scale=0),
        F("IsActive", "boolean", "Active", createable=True, updateable=True),
        F("Description", "textarea", "Description", length=32000),
        F("NumberOfLeads", "int", "Leads in Campaign", **READ_ONLY),
        F("NumberOfConvertedLeads", "int", "Converted Leads in Campaign", **READ_ONLY),
        F("NumberOfContacts", "int", "Contacts in Campaign", **READ_ONLY),
        F("NumberOfResponses", "int", "Responses in Campaign", **READ_ONLY),
        F("NumberOfOpportunities", "int", "Opportunities in Campaign", **READ_ONLY),
        F("NumberOfWonOpportunities", "int", "Won Opportunities in Campaign", **READ_ONLY),
        F("AmountAllOpportunities", "currency", "Value Opportunities in Campaign", **READ_ONLY),
        F("AmountWonOpportunities", "currency", "Value Won Opportunities in Campaign", **READ_ONLY),
        F("OwnerId", "reference", "Owner ID", ref="User", rel="Owner", nillable=False),
        *system_fields(),
        *activity_fields(),
    ]
    return ObjectDef(
        "Campaign",
        "701",
        "Campaign",
        "Campaigns",
        fields,
        deep_cloneable=True,
        scopes=(
            ("everything", "All campaigns"),
            ("mine", "My campaigns"),
            ("team", "My team's campaigns"),
        ),
    )


def campaign_member() -> ObjectDef:
    fields = [
        *deleted_and_id("Campaign Member"),
        F("CampaignId", "reference", "Campaign ID", ref="Campaign", rel="Campaign", nillable=False),
        F("LeadId", "reference", "Lead ID", ref="Lead", rel="Lead"),
        F("ContactId", "reference", "Contact ID", ref="Contact", rel="Contact"),
        F("Status", "picklist", "Status", values=MEMBER_STATUS),
        F("HasResponded", "boolean", "Responded", **READ_ONLY),
        *system_fields(),
        F("FirstRespondedDate", "date", "Member First Responded", **READ_ONLY),
        F("Salutation", "string", "Salutation", length=40, **READ_ONLY),
        F("Name", "string", "Name", length=121, **READ_ONLY),
        F("FirstName", "string", "First Name", length=40, **READ_ONLY),
        F("LastName", "string", "Last Name", length=80, **READ_ONLY),
        F("Title", "string", "Title", length=128, **READ_ONLY),
        F("Email", "email", "Email", **READ_ONLY),
        F("CompanyOrAccount", "string", "Company (Account)", length=255, **READ_ONLY),
        F("Type", "string", "Type", length=40, **READ_ONLY),
        F("LeadOrContactId", "reference", "Contact or Lead ID", **READ_ONLY),
        F("LeadSource", "picklist", "Lead Source", values=LEAD_SOURCES, **READ_ONLY),
    ]
    return ObjectDef(
        "CampaignMember",
        "00v",
        "Campaign Member",
        "Campaign Members",
        fields,
        undeletable=False,
        searchable=False,
        has_recycle_bin=False,
        url_keys=("compactLayouts", "describe", "layouts", "rowTemplate", "sobject"),
        mru_enabled=False,
    )


USER_TYPES = ("Standard",)
TIMEZONES = ("America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Paris")


def user() -> ObjectDef:
    fields = [
        F("Id", "id", "User ID"),
        F("Username", "string", "Username", length=80, nillable=False),
        F("LastName", "string", "Last Name", length=80, nillable=False, compound="Name"),
        F("FirstName", "string", "First Name", length=40, compound="Name"),
        F(
            "Name",
            "string",
            "Full Name",
            length=121,
            nillable=False,
            overrides={"extraTypeInfo": "personname", "nameField": True},
            **READ_ONLY,
        ),
        F("CompanyName", "string", "Company Name", length=80),
        F("Division", "string", "Division", length=80),
        F("Department", "string", "Department", length=80),
        F("Title", "string", "Title", length=80),
        *address_fields("", ""),
        F("Email", "email", "Email", length=128, nillable=False),
        F("Phone", "phone", "Phone"),
        F("MobilePhone", "phone", "Mobile"),
        F("Alias", "string", "Alias", length=8, nillable=False),
        F("CommunityNickname", "string", "Nickname", length=40, nillable=False),
        F("IsActive", "boolean", "Active", createable=True, updateable=True),
        F("TimeZoneSidKey", "picklist", "Time Zone", values=TIMEZONES, nillable=False),
        F("LocaleSidKey", "picklist", "Locale", values=("en_US",), nillable=False),
        F("EmailEncodingKey", "picklist", "Email Encoding", values=("UTF-8",), nillable=False),
        F("LanguageLocaleKey", "picklist", "Language", values=("en_US",), nillable=False),
        F("UserType", "picklist", "User Type", values=USER_TYPES, **READ_ONLY),
        F("EmployeeNumber", "string", "Employee Number", length=20),
        F("ManagerId", "reference", "Manager ID", ref="User", rel="Manager"),
        F("LastLoginDate", "datetime", "Last Login", **READ_ONLY),
        *system_fields(),
        F(
            "UserPermissionsMarketingUser",
            "boolean",
            "Marketing User",
            createable=True,
            updateable=True,
        ),
    ]
    return ObjectDef(
        "User",
        "005",
        "User",
        "Users",
        fields,
        deletable=False,
        undeletable=False,
        feed_enabled=True,
        has_recycle_bin=False,
        url_keys=(
            "compactLayouts",
            "describe",
            "layouts",
            "namedLayouts",
            "passwordUtilities",
            "quickActions",
            "rowTemplate",
            "sobject",
        ),
    )


def document() -> ObjectDef:
    fields = [
        *deleted_and_id("Document"),
        F("FolderId", "reference", "Folder ID", ref="Folder", rel="Folder", nillable=False),
        F(
            "Name",
            "string",
            "Document Name",
            length=255,
            nillable=False,
            overrides={"nameField": True},
        ),
        F("DeveloperName", "string", "Document Unique Name", length=80, nillable=False),
        F("ContentType", "string", "MIME Type", length=120),
        F("Type", "string", "File Extension", length=40),
        F("IsPublic", "boolean", "Externally Available", createable=True, updateable=True),
        F("BodyLength", "int", "Body Length", **READ_ONLY),
        F("Body", "base64", "Body", nillable=True),
        F("Url", "url", "Url", length=255),
        F("Description", "textarea", "Description", length=255),
        F("Keywords", "string", "Keywords", length=255),
        F("IsInternalUseOnly", "boolean", "Internal Use Only", createable=True, updateable=True),
        F("AuthorId", "reference", "Author ID", ref="User", rel="Author", nillable=False),
        *system_fields(),
        F("IsBodySearchable", "boolean", "Document Content Searchable", **READ_ONLY),
        F("LastViewedDate", "datetime", "Last Viewed Date"),
        F("LastReferencedDate", "datetime", "Last Referenced Date"),
    ]
    return ObjectDef("Document", "015", "Document", "Documents", fields, mergeable=False)


def organization() -> ObjectDef:
    fields = [
        F("Id", "id", "Organization ID"),
        F("Name", "string", "Name", length=80, nillable=False, overrides={"nameField": True}),
        F("Division", "string", "Division", length=80),
        *address_fields("", ""),
        F("Phone", "phone", "Phone"),
        F("PrimaryContact", "string", "Primary Contact", length=80),
        F("DefaultLocaleSidKey", "picklist", "Locale", values=("en_US",), nillable=False),
        F("TimeZoneSidKey", "picklist", "Time Zone", values=("America/Los_Angeles",)),
        F("LanguageLocaleKey", "picklist", "Language", values=("en_US",), nillable=False),
        F("IsSandbox", "boolean", "Is Sandbox", **READ_ONLY),
        F("OrganizationType", "picklist", "Edition", values=("Enterprise Edition",), **READ_ONLY),
        F("InstanceName", "string", "Instance Name", length=5, **READ_ONLY),
        F("NamespacePrefix", "string", "Namespace Prefix", length=15, **READ_ONLY),
        F("TrialExpirationDate", "datetime", "Trial Expiration Date", **READ_ONLY),
        *system_fields(),
    ]
    return ObjectDef(
        "Organization",
        "00D",
        "Organization",
        "Organizations",
        fields,
        bulk_supported=False,
        createable=False,
        deletable=False,
        undeletable=False,
        searchable=False,
        triggerable=False,
        has_recycle_bin=False,
        layoutable=False,
        url_keys=("describe", "rowTemplate", "sobject"),
    )


def user_permission_access() -> ObjectDef:
    perms = [
        ("PermissionsApiEnabled", "API Enabled"),
        ("PermissionsViewSetup", "View Setup and Configuration"),
        ("PermissionsViewAllData", "View All Data"),
        ("PermissionsModifyAllData", "Modify All Data"),
        ("PermissionsRunReports", "Run Reports"),
    ]
    fields = [
        F("Id", "id", "User Permission Access ID"),
        F("LastCacheUpdate", "datetime", "Last Cache Update", **READ_ONLY),
        *[F(name, "boolean", label, **READ_ONLY) for name, label in perms],
    ]
    return ObjectDef(
        "UserPermissionAccess",
        "0up",
        "User Permission Access",
        "User Permission Access",
        fields,
        bulk_supported=False,
        createable=False,
        updateable=False,
        deletable=False,
        undeletable=False,
        layoutable=False,
        searchable=False,
        triggerable=False,
        replicateable=False,
        has_recycle_bin=False,
        retrieveable=False,
        url_keys=("describe", "rowTemplate", "sobject"),
    )


def account_feed() -> ObjectDef:
    fields = [
        *deleted_and_id("Account Feed"),
        F("ParentId", "reference", "Parent ID", ref="Account", rel="Parent", nillable=False),
        F("Type", "picklist", "Feed Item Type", values=("TextPost", "LinkPost", "TrackedChange")),
        F("CreatedById", "reference", "Created By ID", ref="User", rel="CreatedBy"),
        F("CreatedDate", "datetime", "Created Date"),
        F("LastModifiedDate", "datetime", "Last Modified Date"),
        F("SystemModstamp", "datetime", "System Modstamp"),
        F("CommentCount", "int", "Comment Count", **READ_ONLY),
        F("LikeCount", "int", "Like Count", **READ_ONLY),
        F("Title", "string", "Title", length=255),
        F("Body", "textarea", "Body", length=10000),
        F("LinkUrl", "url", "Link Url", length=1000),
    ]
    return ObjectDef(
        "AccountFeed",
        "0D5",
        "Account Feed",
        "Account Feed",
        fields,
        bulk_supported=False,
        updateable=False,
        undeletable=False,
        layoutable=False,
        replicateable=False,
        has_recycle_bin=False,
    )


def activity_history() -> ObjectDef:
    fields = [
        *deleted_and_id("Activity History"),
        F("AccountId", "reference", "Account ID", ref="Account", rel="Account"),
        F("Subject", "string", "Subject", length=255),
        F("ActivityDate", "date", "Due Date Only"),
        *system_fields(),
    ]
    return ObjectDef(
        "ActivityHistory",
        "00T",
        "Activity History",
        "Activity Histories",
        fields,
        queryable=False,
        bulk_supported=False,
        createable=False,
        updateable=False,
        deletable=False,
        undeletable=False,
        layoutable=False,
        searchable=False,
        triggerable=False,
        replicateable=False,
        has_recycle_bin=False,
    )
