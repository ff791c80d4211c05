"""Azure documentation the rules rely on (checked against MicrosoftDocs; see docs/rules)."""

LEARN = "https://learn.microsoft.com/azure/api-management"
LLM_EMIT_TOKEN_METRIC = ("llm-emit-token-metric policy", f"{LEARN}/llm-emit-token-metric-policy")
AOAI_EMIT_TOKEN_METRIC = ("azure-openai-emit-token-metric policy", f"{LEARN}/azure-openai-emit-token-metric-policy")
POLICIES_HOWTO = ("Policies in Azure API Management (scopes and <base/>)", f"{LEARN}/api-management-howto-policies")
APP_INSIGHTS = ("Integrate API Management with Application Insights (custom metrics)", f"{LEARN}/api-management-howto-app-insights")
EMIT_METRIC = ("emit-metric policy (custom metric limits)", f"{LEARN}/emit-metric-policy")
CHECK_HEADER = ("check-header policy", f"{LEARN}/check-header-policy")
VALIDATE_JWT = ("validate-jwt policy", f"{LEARN}/validate-jwt-policy")
VALIDATE_AAD = ("validate-azure-ad-token policy", f"{LEARN}/validate-azure-ad-token-policy")
SET_HEADER = ("set-header policy", f"{LEARN}/set-header-policy")
SET_VARIABLE = ("set-variable policy", f"{LEARN}/set-variable-policy")
FRAGMENTS = ("Policy fragments", f"{LEARN}/policy-fragments")
SUBSCRIPTIONS = ("Subscriptions in Azure API Management", f"{LEARN}/api-management-subscriptions")
LLM_LOGS = ("Log token usage, prompts and completions for LLM APIs", f"{LEARN}/api-management-howto-llm-logs")
NAMED_VALUES = ("Use named values in Azure API Management policies", f"{LEARN}/api-management-howto-properties")
EXPRESSIONS = ("API Management policy expressions", f"{LEARN}/api-management-policy-expressions")
VALIDATE_CLIENT_CERT = ("validate-client-certificate policy", f"{LEARN}/validate-client-certificate-policy")
LOG_TO_EVENTHUB = ("log-to-eventhub policy", f"{LEARN}/log-to-eventhub-policy")
SET_BODY = ("set-body policy", f"{LEARN}/set-body-policy")
AOAI_MONITORING = (
    "Monitor Azure OpenAI (diagnostic logs and metrics)",
    "https://learn.microsoft.com/azure/ai-foundry/openai/how-to/monitor-openai",
)
AOAI_STREAM_OPTIONS = (
    "Azure OpenAI REST reference: chat completions `stream_options.include_usage`",
    "https://learn.microsoft.com/azure/ai-foundry/openai/reference",
)
KEY_VAULT_NAMED_VALUES = (
    "Named values backed by Azure Key Vault",
    f"{LEARN}/api-management-howto-properties#key-vault-secrets",
)
DIAGNOSTIC_SETTINGS = (
    "Diagnostic settings in Azure Monitor",
    "https://learn.microsoft.com/azure/azure-monitor/essentials/diagnostic-settings",
)
APIM_LOG_CATEGORIES = (
    "Supported logs for Microsoft.ApiManagement/service",
    "https://learn.microsoft.com/azure/azure-monitor/reference/supported-logs/microsoft-apimanagement-service-logs",
)
APIM_MONITOR = ("Monitor API Management (resource logs)", f"{LEARN}/monitor-api-management")
AZURE_RBAC_BUILTIN = (
    "Azure built-in roles",
    "https://learn.microsoft.com/azure/role-based-access-control/built-in-roles",
)
COST_MANAGEMENT_ACCESS = (
    "Assign access to Cost Management data",
    "https://learn.microsoft.com/azure/cost-management-billing/costs/assign-access-acm-data",
)
LOG_ANALYTICS_ACCESS = (
    "Manage access to Log Analytics workspaces",
    "https://learn.microsoft.com/azure/azure-monitor/logs/manage-access",
)
AOAI_DISABLE_LOCAL_AUTH = (
    "Disable local (key) authentication for Azure AI services",
    "https://learn.microsoft.com/azure/ai-services/disable-local-auth",
)
AOAI_NETWORK = (
    "Configure Azure AI services virtual networks",
    "https://learn.microsoft.com/azure/ai-services/cognitive-services-virtual-networks",
)
GATEWAY_LLM_LOG_TABLE = (
    "ApiManagementGatewayLlmLog table reference",
    "https://learn.microsoft.com/azure/azure-monitor/reference/tables/apimanagementgatewayllmlog",
)
AOAI_METRICS = (
    "Supported metrics for Microsoft.CognitiveServices/accounts",
    "https://learn.microsoft.com/azure/azure-monitor/reference/supported-metrics/microsoft-cognitiveservices-accounts-metrics",
)
RETAIL_PRICES_API = (
    "Azure Retail Prices REST API",
    "https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices",
)
COST_ALLOCATION = (
    "Create and manage Azure cost allocation rules",
    "https://learn.microsoft.com/azure/cost-management-billing/costs/allocate-costs",
)
RESOURCE_TAGS = (
    "Use tags to organize your Azure resources (tags are not inherited by child resources)",
    "https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources",
)
TAG_INHERITANCE = (
    "Group and allocate costs using tag inheritance (Cost Management)",
    "https://learn.microsoft.com/azure/cost-management-billing/costs/enable-tag-inheritance",
)
FOUNDRY_COSTS = (
    "Plan and manage costs for Azure AI Foundry (projects are billed as their resource)",
    "https://learn.microsoft.com/azure/ai-foundry/how-to/costs-plan-manage",
)
PTU_BILLING = (
    "Provisioned throughput (PTU) billing: billed hourly per deployed PTU, used or not",
    "https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/provisioned-throughput-onboarding",
)
