/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Viewer {\n    viewer {\n      username\n      role\n      isManagementKey\n      isInstanceAdmin\n      hasPassword\n      mustEnrollTwoFactor\n      organization {\n        id\n        name\n      }\n      memberships {\n        role\n        organization {\n          id\n          name\n        }\n      }\n    }\n  }\n": typeof types.ViewerDocument,
    "\n  mutation Logout {\n    logout\n  }\n": typeof types.LogoutDocument,
    "\n  mutation SwitchOrganization($id: ID!) {\n    switchOrganization(id: $id) {\n      token\n    }\n  }\n": typeof types.SwitchOrganizationDocument,
    "\n  fragment ServiceLimitFields on Service {\n    limitCostHourWarn\n    limitCostHourBlock\n    limitCostDayWarn\n    limitCostDayBlock\n    limitCostMonthWarn\n    limitCostMonthBlock\n    limitCostTotalBlock\n    limitRpm\n    limitTpm\n    limitConcurrency\n  }\n": typeof types.ServiceLimitFieldsFragmentDoc,
    "\n  fragment ProviderUsageFields on ProviderUsage {\n    provider\n    accountKey\n    checkedAt\n    reachable\n    error\n    source\n    sampleLatencyMs\n    models\n    rateLimitHeaders\n    tokens { limit remaining used pctUsed resetAt resetInMs }\n    inputTokens { limit remaining used pctUsed resetAt resetInMs }\n    outputTokens { limit remaining used pctUsed resetAt resetInMs }\n    requests { limit remaining resetAt resetInMs }\n  }\n": typeof types.ProviderUsageFieldsFragmentDoc,
    "\n  mutation TestProviderCredential($input: TestProviderCredentialInput!) {\n    testProviderCredential(input: $input) {\n      ...ProviderUsageFields\n    }\n  }\n": typeof types.TestProviderCredentialDocument,
    "\n  query ProviderUsage($id: ID!, $refresh: Boolean!) {\n    providerUsage(credentialId: $id, refresh: $refresh) {\n      ...ProviderUsageFields\n    }\n  }\n": typeof types.ProviderUsageDocument,
    "\n  subscription ProviderUsageChanged($id: ID!) {\n    providerUsageChanged(credentialId: $id) {\n      ...ProviderUsageFields\n    }\n  }\n": typeof types.ProviderUsageChangedDocument,
    "\n  fragment PaceLimitFields on PaceLimit {\n    kind\n    limit\n    remaining\n    resetsInSeconds\n  }\n": typeof types.PaceLimitFieldsFragmentDoc,
    "\n  subscription UsageEvents($serviceId: ID, $apiKeyId: ID) {\n    usageEvents(serviceId: $serviceId, apiKeyId: $apiKeyId) {\n      requestId\n      model\n      status\n      inputTokens\n      outputTokens\n      cost\n      priced\n      latencyMs\n      at\n    }\n  }\n": typeof types.UsageEventsDocument,
    "\n  query RequestBodies($id: ID!) {\n    requestBodies(usageRecordId: $id) {\n      capturedAt\n      expiresAt\n      request\n      response\n      requestTruncated\n      responseTruncated\n    }\n  }\n": typeof types.RequestBodiesDocument,
    "\n  mutation AcceptInvitation($token: String!, $username: String, $password: String) {\n    acceptInvitation(token: $token, username: $username, password: $password) {\n      token\n    }\n  }\n": typeof types.AcceptInvitationDocument,
    "\n  query MySessions {\n    mySessions {\n      id\n      createdAt\n      lastSeenAt\n      expiresAt\n      clientIp\n      userAgent\n      current\n    }\n  }\n": typeof types.MySessionsDocument,
    "\n  mutation ChangePassword($current: String!, $new: String!) {\n    changePassword(current: $current, new: $new) {\n      token\n    }\n  }\n": typeof types.ChangePasswordDocument,
    "\n  mutation EndAllSessions {\n    endAllSessions\n  }\n": typeof types.EndAllSessionsDocument,
    "\n  fragment APIKeyFields on APIKey {\n    id\n    name\n    description\n    keyPrefix\n    keyLastFour\n    isActive\n    isManagementKey\n    expiresAt\n    lastUsedAt\n    createdAt\n    limitCostHourWarn\n    limitCostHourBlock\n    limitCostDayWarn\n    limitCostDayBlock\n    limitCostMonthWarn\n    limitCostMonthBlock\n    limitCostTotalBlock\n    limitRpm\n    limitTpm\n    limitConcurrency\n    service {\n      id\n      serviceName\n      spend {\n        ...SpendFields\n      }\n      pace {\n        ...PaceLimitFields\n      }\n    }\n    spend {\n      ...SpendFields\n    }\n    pace {\n      ...PaceLimitFields\n    }\n  }\n": typeof types.ApiKeyFieldsFragmentDoc,
    "\n  query APIKeys($after: Cursor, $search: String) {\n    apiKeys(first: 50, after: $after, where: { isManagementKey: false, search: $search }, orderBy: { field: NAME }) {\n      totalCount\n      totalCountIsExact\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...APIKeyFields\n        }\n      }\n    }\n    anyService: services(first: 1) {\n      edges {\n        node {\n          id\n        }\n      }\n    }\n  }\n": typeof types.ApiKeysDocument,
    "\n  fragment ServiceOptionFields on Service {\n    id\n    serviceName\n    provider\n    modelsEnabled\n    active\n    ...ServiceLimitFields\n  }\n": typeof types.ServiceOptionFieldsFragmentDoc,
    "\n  query KeyFormServices($search: String) {\n    services(first: 50, where: { serviceNameContainsFold: $search }, orderBy: { field: SERVICE_NAME }) {\n      totalCount\n      edges {\n        node {\n          ...ServiceOptionFields\n        }\n      }\n    }\n    providers {\n      name\n      protocol\n    }\n  }\n": typeof types.KeyFormServicesDocument,
    "\n  query KeyService($id: ID!) {\n    service(id: $id) {\n      ...ServiceOptionFields\n    }\n    providers {\n      name\n      protocol\n    }\n  }\n": typeof types.KeyServiceDocument,
    "\n  mutation CreateAPIKey($input: CreateAPIKeyInput!) {\n    createAPIKey(input: $input) {\n      key\n      apiKey {\n        ...APIKeyFields\n      }\n    }\n  }\n": typeof types.CreateApiKeyDocument,
    "\n  mutation UpdateAPIKey($id: ID!, $input: UpdateAPIKeyInput!) {\n    updateAPIKey(id: $id, input: $input) {\n      ...APIKeyFields\n    }\n  }\n": typeof types.UpdateApiKeyDocument,
    "\n  mutation RotateAPIKey($id: ID!) {\n    rotateAPIKey(id: $id) {\n      key\n      apiKey {\n        ...APIKeyFields\n      }\n    }\n  }\n": typeof types.RotateApiKeyDocument,
    "\n  mutation DeleteAPIKey($name: String!) {\n    deleteAPIKey(name: $name)\n  }\n": typeof types.DeleteApiKeyDocument,
    "\n  query AuditLog($after: Cursor, $where: AuditEventWhereInput) {\n    auditEvents(first: 50, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      totalCountIsExact\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          createdAt\n          actorType\n          actorName\n          action\n          targetType\n          targetName\n          outcome\n          error\n          clientIP\n          changes {\n            field\n            value\n          }\n        }\n      }\n    }\n  }\n": typeof types.AuditLogDocument,
    "\n  fragment CredentialFields on ProviderCredential {\n    id\n    provider\n    accountKey\n    displayName\n    apiKeyLastFour\n    hasApiKey\n    baseUrl\n    apiStandardHandle\n    active\n    services {\n      totalCount\n    }\n  }\n": typeof types.CredentialFieldsFragmentDoc,
    "\n  query Credentials {\n    providerCredentials(first: 200, orderBy: { field: DISPLAY_NAME }) {\n      edges {\n        node {\n          ...CredentialFields\n        }\n      }\n    }\n    apiStandards {\n      apiStandardHandle\n    }\n  }\n": typeof types.CredentialsDocument,
    "\n  mutation CreateProviderCredential($input: CreateProviderCredentialInput!) {\n    createProviderCredential(input: $input) {\n      ...CredentialFields\n    }\n  }\n": typeof types.CreateProviderCredentialDocument,
    "\n  mutation UpdateProviderCredential($id: ID!, $input: UpdateProviderCredentialInput!) {\n    updateProviderCredential(id: $id, input: $input) {\n      ...CredentialFields\n    }\n  }\n": typeof types.UpdateProviderCredentialDocument,
    "\n  mutation DeleteProviderCredential($id: ID!) {\n    deleteProviderCredential(id: $id)\n  }\n": typeof types.DeleteProviderCredentialDocument,
    "\n  mutation Login($username: String!, $password: String!) {\n    login(username: $username, password: $password) {\n      token\n      expiresAt\n      twoFactorChallenge\n    }\n  }\n": typeof types.LoginDocument,
    "\n  query Members {\n    members {\n      userId\n      username\n      role\n      joinedAt\n      lastLoginAt\n      isViewer\n      twoFactorEnabled\n    }\n  }\n": typeof types.MembersDocument,
    "\n  query Invitations {\n    invitations {\n      id\n      role\n      note\n      createdAt\n      expiresAt\n      acceptedAt\n      revokedAt\n    }\n  }\n": typeof types.InvitationsDocument,
    "\n  mutation CreateInvitation($role: Role!, $note: String) {\n    createInvitation(role: $role, note: $note) {\n      token\n      invitation {\n        id\n      }\n    }\n  }\n": typeof types.CreateInvitationDocument,
    "\n  mutation RevokeInvitation($id: ID!) {\n    revokeInvitation(id: $id)\n  }\n": typeof types.RevokeInvitationDocument,
    "\n  mutation UpdateMemberRole($userId: ID!, $role: Role!) {\n    updateMemberRole(userId: $userId, role: $role) {\n      userId\n      role\n    }\n  }\n": typeof types.UpdateMemberRoleDocument,
    "\n  mutation RemoveMember($userId: ID!) {\n    removeMember(userId: $userId)\n  }\n": typeof types.RemoveMemberDocument,
    "\n  query Overview($from: Time!, $bucket: UsageBucket!) {\n    organizationSpend {\n      ...SpendFields\n    }\n    organizationPace {\n      ...PaceLimitFields\n    }\n    balance {\n      currentBalance\n      currency\n      enforced\n    }\n    services(first: 24, orderBy: { field: SERVICE_NAME }) {\n      totalCount\n      edges {\n        node {\n          id\n          serviceName\n          provider\n          active\n          spend {\n            ...SpendFields\n          }\n          pace {\n            ...PaceLimitFields\n          }\n        }\n      }\n    }\n    apiKeys(first: 24, where: { isManagementKey: false }, orderBy: { field: NAME }) {\n      totalCount\n      totalCountIsExact\n      edges {\n        node {\n          id\n          name\n          isActive\n          expiresAt\n          service {\n            id\n            serviceName\n          }\n          spend {\n            ...SpendFields\n          }\n          pace {\n            ...PaceLimitFields\n          }\n        }\n      }\n    }\n    usage(filter: { from: $from }, bucket: $bucket) {\n      totals {\n        requests\n        errors\n        refusedRequests\n        unpricedRequests\n        inputTokens\n        outputTokens\n        cacheWriteTokens\n        cost\n        meanLatencyMs\n        latencyP50Ms\n        latencyP95Ms\n        latencyP99Ms\n      }\n      series {\n        start\n        sums {\n          requests\n          cost\n        }\n      }\n      byModel {\n        model\n        sums {\n          requests\n          errors\n          refusedRequests\n          cost\n          inputTokens\n          outputTokens\n          latencyP95Ms\n        }\n      }\n    }\n  }\n": typeof types.OverviewDocument,
    "\n  fragment BreakdownSums on UsageSums {\n    requests\n    errors\n    refusedRequests\n    inputTokens\n    outputTokens\n    cost\n    latencyP50Ms\n    latencyP95Ms\n  }\n": typeof types.BreakdownSumsFragmentDoc,
    "\n  query UsageBreakdown($from: Time!, $bucket: UsageBucket!, $by: UsageSplit!) {\n    usage(filter: { from: $from }, bucket: $bucket) {\n      split(by: $by, first: 6) {\n        key\n        name\n        sums {\n          ...BreakdownSums\n        }\n        series {\n          start\n          sums {\n            ...BreakdownSums\n          }\n        }\n      }\n    }\n  }\n": typeof types.UsageBreakdownDocument,
    "\n  fragment ServiceTargetFields on ServiceTarget {\n    id\n    position\n    weight\n    enabled\n    modelMap\n    credential {\n      id\n      displayName\n      provider\n      apiKeyLastFour\n    }\n    state {\n      healthy\n      coolingDownUntil\n      lastError\n      consecutiveFailures\n    }\n  }\n": typeof types.ServiceTargetFieldsFragmentDoc,
    "\n  query ServiceTargets($id: ID!) {\n    service(id: $id) {\n      id\n      provider\n      targets {\n        ...ServiceTargetFields\n      }\n    }\n  }\n": typeof types.ServiceTargetsDocument,
    "\n  mutation AddServiceTarget($serviceId: ID!, $input: AddServiceTargetInput!) {\n    addServiceTarget(serviceId: $serviceId, input: $input) {\n      ...ServiceTargetFields\n    }\n  }\n": typeof types.AddServiceTargetDocument,
    "\n  mutation UpdateServiceTarget($id: ID!, $input: UpdateServiceTargetInput!) {\n    updateServiceTarget(id: $id, input: $input) {\n      ...ServiceTargetFields\n    }\n  }\n": typeof types.UpdateServiceTargetDocument,
    "\n  mutation RemoveServiceTarget($id: ID!) {\n    removeServiceTarget(id: $id)\n  }\n": typeof types.RemoveServiceTargetDocument,
    "\n  mutation ReorderServiceTargets($serviceId: ID!, $targetIds: [ID!]!) {\n    reorderServiceTargets(serviceId: $serviceId, targetIds: $targetIds) {\n      ...ServiceTargetFields\n    }\n  }\n": typeof types.ReorderServiceTargetsDocument,
    "\n  fragment ServiceFields on Service {\n    id\n    serviceName\n    description\n    provider\n    credentialID\n    modelsEnabled\n    allowUnpricedModels\n    active\n    ...ServiceLimitFields\n    bodyCapture {\n      mode\n      samplePercent\n      maxBytes\n      retentionDays\n      redact\n    }\n    credential {\n      id\n      displayName\n      apiKeyLastFour\n      hasApiKey\n      baseUrl\n    }\n    apiKeys {\n      totalCount\n    }\n    spend {\n      ...SpendFields\n    }\n    pace {\n      ...PaceLimitFields\n    }\n    targets {\n      ...ServiceTargetFields\n    }\n  }\n": typeof types.ServiceFieldsFragmentDoc,
    "\n  query Services($after: Cursor, $search: String) {\n    services(first: 24, after: $after, where: { serviceNameContainsFold: $search }, orderBy: { field: SERVICE_NAME }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...ServiceFields\n        }\n      }\n    }\n  }\n": typeof types.ServicesDocument,
    "\n  query ProvidersAndCredentials {\n    providers {\n      name\n      displayName\n      defaultBaseUrl\n      apiStandardHandle\n      clientApis\n      models\n    }\n    providerCredentials(first: 200, orderBy: { field: DISPLAY_NAME }) {\n      edges {\n        node {\n          id\n          provider\n          accountKey\n          displayName\n          apiKeyLastFour\n        }\n      }\n    }\n  }\n": typeof types.ProvidersAndCredentialsDocument,
    "\n  mutation CreateService($input: CreateServiceInput!) {\n    createService(input: $input) {\n      ...ServiceFields\n    }\n  }\n": typeof types.CreateServiceDocument,
    "\n  mutation UpdateService($id: ID!, $input: UpdateServiceInput!) {\n    updateService(id: $id, input: $input) {\n      ...ServiceFields\n    }\n  }\n": typeof types.UpdateServiceDocument,
    "\n  mutation DeleteService($id: ID!) {\n    deleteService(id: $id)\n  }\n": typeof types.DeleteServiceDocument,
    "\n  query ProbeCredential($id: ID!) {\n    providerUsage(credentialId: $id, refresh: true) {\n      ...ProviderUsageFields\n    }\n  }\n": typeof types.ProbeCredentialDocument,
    "\n  query Settings {\n    viewer {\n      organization {\n        ...OrganizationLimits\n      }\n    }\n    projectSettings {\n      id\n      allowOverwrite\n      alertWebhookURL\n    }\n    balance {\n      id\n      currentBalance\n      currency\n      enforced\n    }\n    apiKeys(first: 100, where: { isManagementKey: true }, orderBy: { field: NAME }) {\n      edges {\n        node {\n          id\n          name\n          description\n          keyPrefix\n          keyLastFour\n          lastUsedAt\n        }\n      }\n    }\n  }\n": typeof types.SettingsDocument,
    "\n  fragment OrganizationLimits on Organization {\n    id\n    limitCostHourWarn\n    limitCostHourBlock\n    limitCostDayWarn\n    limitCostDayBlock\n    limitCostMonthWarn\n    limitCostMonthBlock\n    limitCostTotalBlock\n    limitRpm\n    limitTpm\n    limitConcurrency\n  }\n": typeof types.OrganizationLimitsFragmentDoc,
    "\n  mutation UpdateOrganizationLimits($input: UpdateOrganizationLimitsInput!) {\n    updateOrganizationLimits(input: $input) {\n      ...OrganizationLimits\n    }\n  }\n": typeof types.UpdateOrganizationLimitsDocument,
    "\n  mutation UpdateProjectSettings($input: UpdateProjectSettingsInput!) {\n    updateProjectSettings(input: $input) {\n      id\n      allowOverwrite\n      alertWebhookURL\n    }\n  }\n": typeof types.UpdateProjectSettingsDocument,
    "\n  mutation TopUpBalance($amount: USD!) {\n    topUpBalance(amount: $amount) {\n      id\n      currentBalance\n      currency\n      enforced\n    }\n  }\n": typeof types.TopUpBalanceDocument,
    "\n  mutation UpdateBalance($input: UpdateBalanceInput!) {\n    updateBalance(input: $input) {\n      id\n      currentBalance\n      currency\n      enforced\n    }\n  }\n": typeof types.UpdateBalanceDocument,
    "\n  fragment PriceFields on ModelPrice {\n    id\n    provider\n    model\n    inputPerMtok\n    outputPerMtok\n    cachedInputPerMtok\n    cacheWritePerMtok\n    cacheWrite1hPerMtok\n    kind\n    customized\n  }\n": typeof types.PriceFieldsFragmentDoc,
    "\n  query Prices($where: ModelPriceWhereInput) {\n    modelPrices(first: 100, where: $where, orderBy: { field: PROVIDER }) {\n      totalCount\n      edges {\n        node {\n          ...PriceFields\n        }\n      }\n    }\n  }\n": typeof types.PricesDocument,
    "\n  mutation UpdateModelPrice($id: ID!, $input: UpdateModelPriceInput!) {\n    updateModelPrice(id: $id, input: $input) {\n      id\n      inputPerMtok\n      outputPerMtok\n      cachedInputPerMtok\n      cacheWritePerMtok\n      cacheWrite1hPerMtok\n      customized\n    }\n  }\n": typeof types.UpdateModelPriceDocument,
    "\n  mutation CreateModelPrice($input: CreateModelPriceInput!) {\n    createModelPrice(input: $input) {\n      ...PriceFields\n    }\n  }\n": typeof types.CreateModelPriceDocument,
    "\n  query PriceProviders {\n    providers {\n      name\n      displayName\n    }\n  }\n": typeof types.PriceProvidersDocument,
    "\n  query LoginOptions {\n    loginOptions {\n      passwordLogin\n      sso {\n        name\n        loginUrl\n      }\n    }\n  }\n": typeof types.LoginOptionsDocument,
    "\n  query Standards {\n    apiStandards {\n      id\n      apiStandardHandle\n      description\n      keyMethod\n      keyField\n    }\n  }\n": typeof types.StandardsDocument,
    "\n  mutation CreateAPIStandard($input: CreateAPIStandardInput!) {\n    createAPIStandard(input: $input) {\n      id\n      apiStandardHandle\n      description\n      keyMethod\n      keyField\n    }\n  }\n": typeof types.CreateApiStandardDocument,
    "\n  mutation UpdateAPIStandard($handle: String!, $input: UpdateAPIStandardInput!) {\n    updateAPIStandard(handle: $handle, input: $input) {\n      id\n      apiStandardHandle\n      description\n      keyMethod\n      keyField\n    }\n  }\n": typeof types.UpdateApiStandardDocument,
    "\n  mutation DeleteAPIStandard($handle: String!) {\n    deleteAPIStandard(handle: $handle)\n  }\n": typeof types.DeleteApiStandardDocument,
    "\n  query TwoFactorStatus {\n    viewer {\n      twoFactor {\n        enabled\n        enabledAt\n        pending\n        recoveryCodesLeft\n        requiredByOrganization\n      }\n    }\n  }\n": typeof types.TwoFactorStatusDocument,
    "\n  mutation EnrollTwoFactor {\n    enrollTwoFactor {\n      secret\n      uri\n    }\n  }\n": typeof types.EnrollTwoFactorDocument,
    "\n  mutation ConfirmTwoFactor($code: String!) {\n    confirmTwoFactor(code: $code)\n  }\n": typeof types.ConfirmTwoFactorDocument,
    "\n  mutation RegenerateRecoveryCodes($code: String!) {\n    regenerateRecoveryCodes(code: $code)\n  }\n": typeof types.RegenerateRecoveryCodesDocument,
    "\n  mutation DisableTwoFactor($password: String!, $code: String!) {\n    disableTwoFactor(password: $password, code: $code)\n  }\n": typeof types.DisableTwoFactorDocument,
    "\n  mutation LoginTwoFactor($challenge: String!, $code: String!) {\n    loginTwoFactor(challenge: $challenge, code: $code) {\n      token\n    }\n  }\n": typeof types.LoginTwoFactorDocument,
    "\n  mutation SetRequireTwoFactor($required: Boolean!) {\n    setRequireTwoFactor(required: $required) {\n      id\n      requireTwoFactor\n    }\n  }\n": typeof types.SetRequireTwoFactorDocument,
    "\n  query OrganizationTwoFactor {\n    viewer {\n      twoFactor {\n        enabled\n        requiredByOrganization\n      }\n    }\n  }\n": typeof types.OrganizationTwoFactorDocument,
    "\n  mutation ResetTwoFactor($userId: ID!) {\n    resetTwoFactor(userId: $userId)\n  }\n": typeof types.ResetTwoFactorDocument,
    "\n  fragment UsageRecordFields on UsageRecord {\n    id\n    createdAt\n    requestID\n    traceID\n    serviceID\n    apiKeyID\n    protocol\n    providerProtocol\n    endpoint\n    model\n    inputTokens\n    outputTokens\n    cachedInputTokens\n    cacheWriteTokens\n    cost\n    priced\n    status\n    error\n    latencyUs\n    ttfbUs\n    streamed\n    partial\n  }\n": typeof types.UsageRecordFieldsFragmentDoc,
    "\n  query UsageLog($after: Cursor, $where: UsageRecordWhereInput) {\n    usageRecords(first: 50, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      totalCountIsExact\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...UsageRecordFields\n        }\n      }\n    }\n  }\n": typeof types.UsageLogDocument,
    "\n  query UsageRecordDetail($id: ID!) {\n    usageRecords(first: 1, where: { id: $id }) {\n      edges {\n        node {\n          ...UsageRecordFields\n          credentialID\n          cacheWrite1hTokens\n          attempts {\n            targetID\n            credentialID\n            status\n            latencyMs\n            error\n          }\n        }\n      }\n    }\n  }\n": typeof types.UsageRecordDetailDocument,
    "\n  query UsageFilterOptions($since: Time!) {\n    services(first: 200, orderBy: { field: SERVICE_NAME }) {\n      edges {\n        node {\n          id\n          serviceName\n        }\n      }\n    }\n    apiKeys(first: 200, where: { isManagementKey: false }, orderBy: { field: NAME }) {\n      edges {\n        node {\n          id\n          name\n        }\n      }\n    }\n    usage(filter: { from: $since }, bucket: DAY) {\n      byModel {\n        model\n      }\n    }\n  }\n": typeof types.UsageFilterOptionsDocument,
    "\n  fragment SpendFields on Spend {\n    window\n    windowStart\n    spent\n    reserved\n    warn\n    block\n    resetsAt\n  }\n": typeof types.SpendFieldsFragmentDoc,
};
const documents: Documents = {
    "\n  query Viewer {\n    viewer {\n      username\n      role\n      isManagementKey\n      isInstanceAdmin\n      hasPassword\n      mustEnrollTwoFactor\n      organization {\n        id\n        name\n      }\n      memberships {\n        role\n        organization {\n          id\n          name\n        }\n      }\n    }\n  }\n": types.ViewerDocument,
    "\n  mutation Logout {\n    logout\n  }\n": types.LogoutDocument,
    "\n  mutation SwitchOrganization($id: ID!) {\n    switchOrganization(id: $id) {\n      token\n    }\n  }\n": types.SwitchOrganizationDocument,
    "\n  fragment ServiceLimitFields on Service {\n    limitCostHourWarn\n    limitCostHourBlock\n    limitCostDayWarn\n    limitCostDayBlock\n    limitCostMonthWarn\n    limitCostMonthBlock\n    limitCostTotalBlock\n    limitRpm\n    limitTpm\n    limitConcurrency\n  }\n": types.ServiceLimitFieldsFragmentDoc,
    "\n  fragment ProviderUsageFields on ProviderUsage {\n    provider\n    accountKey\n    checkedAt\n    reachable\n    error\n    source\n    sampleLatencyMs\n    models\n    rateLimitHeaders\n    tokens { limit remaining used pctUsed resetAt resetInMs }\n    inputTokens { limit remaining used pctUsed resetAt resetInMs }\n    outputTokens { limit remaining used pctUsed resetAt resetInMs }\n    requests { limit remaining resetAt resetInMs }\n  }\n": types.ProviderUsageFieldsFragmentDoc,
    "\n  mutation TestProviderCredential($input: TestProviderCredentialInput!) {\n    testProviderCredential(input: $input) {\n      ...ProviderUsageFields\n    }\n  }\n": types.TestProviderCredentialDocument,
    "\n  query ProviderUsage($id: ID!, $refresh: Boolean!) {\n    providerUsage(credentialId: $id, refresh: $refresh) {\n      ...ProviderUsageFields\n    }\n  }\n": types.ProviderUsageDocument,
    "\n  subscription ProviderUsageChanged($id: ID!) {\n    providerUsageChanged(credentialId: $id) {\n      ...ProviderUsageFields\n    }\n  }\n": types.ProviderUsageChangedDocument,
    "\n  fragment PaceLimitFields on PaceLimit {\n    kind\n    limit\n    remaining\n    resetsInSeconds\n  }\n": types.PaceLimitFieldsFragmentDoc,
    "\n  subscription UsageEvents($serviceId: ID, $apiKeyId: ID) {\n    usageEvents(serviceId: $serviceId, apiKeyId: $apiKeyId) {\n      requestId\n      model\n      status\n      inputTokens\n      outputTokens\n      cost\n      priced\n      latencyMs\n      at\n    }\n  }\n": types.UsageEventsDocument,
    "\n  query RequestBodies($id: ID!) {\n    requestBodies(usageRecordId: $id) {\n      capturedAt\n      expiresAt\n      request\n      response\n      requestTruncated\n      responseTruncated\n    }\n  }\n": types.RequestBodiesDocument,
    "\n  mutation AcceptInvitation($token: String!, $username: String, $password: String) {\n    acceptInvitation(token: $token, username: $username, password: $password) {\n      token\n    }\n  }\n": types.AcceptInvitationDocument,
    "\n  query MySessions {\n    mySessions {\n      id\n      createdAt\n      lastSeenAt\n      expiresAt\n      clientIp\n      userAgent\n      current\n    }\n  }\n": types.MySessionsDocument,
    "\n  mutation ChangePassword($current: String!, $new: String!) {\n    changePassword(current: $current, new: $new) {\n      token\n    }\n  }\n": types.ChangePasswordDocument,
    "\n  mutation EndAllSessions {\n    endAllSessions\n  }\n": types.EndAllSessionsDocument,
    "\n  fragment APIKeyFields on APIKey {\n    id\n    name\n    description\n    keyPrefix\n    keyLastFour\n    isActive\n    isManagementKey\n    expiresAt\n    lastUsedAt\n    createdAt\n    limitCostHourWarn\n    limitCostHourBlock\n    limitCostDayWarn\n    limitCostDayBlock\n    limitCostMonthWarn\n    limitCostMonthBlock\n    limitCostTotalBlock\n    limitRpm\n    limitTpm\n    limitConcurrency\n    service {\n      id\n      serviceName\n      spend {\n        ...SpendFields\n      }\n      pace {\n        ...PaceLimitFields\n      }\n    }\n    spend {\n      ...SpendFields\n    }\n    pace {\n      ...PaceLimitFields\n    }\n  }\n": types.ApiKeyFieldsFragmentDoc,
    "\n  query APIKeys($after: Cursor, $search: String) {\n    apiKeys(first: 50, after: $after, where: { isManagementKey: false, search: $search }, orderBy: { field: NAME }) {\n      totalCount\n      totalCountIsExact\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...APIKeyFields\n        }\n      }\n    }\n    anyService: services(first: 1) {\n      edges {\n        node {\n          id\n        }\n      }\n    }\n  }\n": types.ApiKeysDocument,
    "\n  fragment ServiceOptionFields on Service {\n    id\n    serviceName\n    provider\n    modelsEnabled\n    active\n    ...ServiceLimitFields\n  }\n": types.ServiceOptionFieldsFragmentDoc,
    "\n  query KeyFormServices($search: String) {\n    services(first: 50, where: { serviceNameContainsFold: $search }, orderBy: { field: SERVICE_NAME }) {\n      totalCount\n      edges {\n        node {\n          ...ServiceOptionFields\n        }\n      }\n    }\n    providers {\n      name\n      protocol\n    }\n  }\n": types.KeyFormServicesDocument,
    "\n  query KeyService($id: ID!) {\n    service(id: $id) {\n      ...ServiceOptionFields\n    }\n    providers {\n      name\n      protocol\n    }\n  }\n": types.KeyServiceDocument,
    "\n  mutation CreateAPIKey($input: CreateAPIKeyInput!) {\n    createAPIKey(input: $input) {\n      key\n      apiKey {\n        ...APIKeyFields\n      }\n    }\n  }\n": types.CreateApiKeyDocument,
    "\n  mutation UpdateAPIKey($id: ID!, $input: UpdateAPIKeyInput!) {\n    updateAPIKey(id: $id, input: $input) {\n      ...APIKeyFields\n    }\n  }\n": types.UpdateApiKeyDocument,
    "\n  mutation RotateAPIKey($id: ID!) {\n    rotateAPIKey(id: $id) {\n      key\n      apiKey {\n        ...APIKeyFields\n      }\n    }\n  }\n": types.RotateApiKeyDocument,
    "\n  mutation DeleteAPIKey($name: String!) {\n    deleteAPIKey(name: $name)\n  }\n": types.DeleteApiKeyDocument,
    "\n  query AuditLog($after: Cursor, $where: AuditEventWhereInput) {\n    auditEvents(first: 50, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      totalCountIsExact\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          createdAt\n          actorType\n          actorName\n          action\n          targetType\n          targetName\n          outcome\n          error\n          clientIP\n          changes {\n            field\n            value\n          }\n        }\n      }\n    }\n  }\n": types.AuditLogDocument,
    "\n  fragment CredentialFields on ProviderCredential {\n    id\n    provider\n    accountKey\n    displayName\n    apiKeyLastFour\n    hasApiKey\n    baseUrl\n    apiStandardHandle\n    active\n    services {\n      totalCount\n    }\n  }\n": types.CredentialFieldsFragmentDoc,
    "\n  query Credentials {\n    providerCredentials(first: 200, orderBy: { field: DISPLAY_NAME }) {\n      edges {\n        node {\n          ...CredentialFields\n        }\n      }\n    }\n    apiStandards {\n      apiStandardHandle\n    }\n  }\n": types.CredentialsDocument,
    "\n  mutation CreateProviderCredential($input: CreateProviderCredentialInput!) {\n    createProviderCredential(input: $input) {\n      ...CredentialFields\n    }\n  }\n": types.CreateProviderCredentialDocument,
    "\n  mutation UpdateProviderCredential($id: ID!, $input: UpdateProviderCredentialInput!) {\n    updateProviderCredential(id: $id, input: $input) {\n      ...CredentialFields\n    }\n  }\n": types.UpdateProviderCredentialDocument,
    "\n  mutation DeleteProviderCredential($id: ID!) {\n    deleteProviderCredential(id: $id)\n  }\n": types.DeleteProviderCredentialDocument,
    "\n  mutation Login($username: String!, $password: String!) {\n    login(username: $username, password: $password) {\n      token\n      expiresAt\n      twoFactorChallenge\n    }\n  }\n": types.LoginDocument,
    "\n  query Members {\n    members {\n      userId\n      username\n      role\n      joinedAt\n      lastLoginAt\n      isViewer\n      twoFactorEnabled\n    }\n  }\n": types.MembersDocument,
    "\n  query Invitations {\n    invitations {\n      id\n      role\n      note\n      createdAt\n      expiresAt\n      acceptedAt\n      revokedAt\n    }\n  }\n": types.InvitationsDocument,
    "\n  mutation CreateInvitation($role: Role!, $note: String) {\n    createInvitation(role: $role, note: $note) {\n      token\n      invitation {\n        id\n      }\n    }\n  }\n": types.CreateInvitationDocument,
    "\n  mutation RevokeInvitation($id: ID!) {\n    revokeInvitation(id: $id)\n  }\n": types.RevokeInvitationDocument,
    "\n  mutation UpdateMemberRole($userId: ID!, $role: Role!) {\n    updateMemberRole(userId: $userId, role: $role) {\n      userId\n      role\n    }\n  }\n": types.UpdateMemberRoleDocument,
    "\n  mutation RemoveMember($userId: ID!) {\n    removeMember(userId: $userId)\n  }\n": types.RemoveMemberDocument,
    "\n  query Overview($from: Time!, $bucket: UsageBucket!) {\n    organizationSpend {\n      ...SpendFields\n    }\n    organizationPace {\n      ...PaceLimitFields\n    }\n    balance {\n      currentBalance\n      currency\n      enforced\n    }\n    services(first: 24, orderBy: { field: SERVICE_NAME }) {\n      totalCount\n      edges {\n        node {\n          id\n          serviceName\n          provider\n          active\n          spend {\n            ...SpendFields\n          }\n          pace {\n            ...PaceLimitFields\n          }\n        }\n      }\n    }\n    apiKeys(first: 24, where: { isManagementKey: false }, orderBy: { field: NAME }) {\n      totalCount\n      totalCountIsExact\n      edges {\n        node {\n          id\n          name\n          isActive\n          expiresAt\n          service {\n            id\n            serviceName\n          }\n          spend {\n            ...SpendFields\n          }\n          pace {\n            ...PaceLimitFields\n          }\n        }\n      }\n    }\n    usage(filter: { from: $from }, bucket: $bucket) {\n      totals {\n        requests\n        errors\n        refusedRequests\n        unpricedRequests\n        inputTokens\n        outputTokens\n        cacheWriteTokens\n        cost\n        meanLatencyMs\n        latencyP50Ms\n        latencyP95Ms\n        latencyP99Ms\n      }\n      series {\n        start\n        sums {\n          requests\n          cost\n        }\n      }\n      byModel {\n        model\n        sums {\n          requests\n          errors\n          refusedRequests\n          cost\n          inputTokens\n          outputTokens\n          latencyP95Ms\n        }\n      }\n    }\n  }\n": types.OverviewDocument,
    "\n  fragment BreakdownSums on UsageSums {\n    requests\n    errors\n    refusedRequests\n    inputTokens\n    outputTokens\n    cost\n    latencyP50Ms\n    latencyP95Ms\n  }\n": types.BreakdownSumsFragmentDoc,
    "\n  query UsageBreakdown($from: Time!, $bucket: UsageBucket!, $by: UsageSplit!) {\n    usage(filter: { from: $from }, bucket: $bucket) {\n      split(by: $by, first: 6) {\n        key\n        name\n        sums {\n          ...BreakdownSums\n        }\n        series {\n          start\n          sums {\n            ...BreakdownSums\n          }\n        }\n      }\n    }\n  }\n": types.UsageBreakdownDocument,
    "\n  fragment ServiceTargetFields on ServiceTarget {\n    id\n    position\n    weight\n    enabled\n    modelMap\n    credential {\n      id\n      displayName\n      provider\n      apiKeyLastFour\n    }\n    state {\n      healthy\n      coolingDownUntil\n      lastError\n      consecutiveFailures\n    }\n  }\n": types.ServiceTargetFieldsFragmentDoc,
    "\n  query ServiceTargets($id: ID!) {\n    service(id: $id) {\n      id\n      provider\n      targets {\n        ...ServiceTargetFields\n      }\n    }\n  }\n": types.ServiceTargetsDocument,
    "\n  mutation AddServiceTarget($serviceId: ID!, $input: AddServiceTargetInput!) {\n    addServiceTarget(serviceId: $serviceId, input: $input) {\n      ...ServiceTargetFields\n    }\n  }\n": types.AddServiceTargetDocument,
    "\n  mutation UpdateServiceTarget($id: ID!, $input: UpdateServiceTargetInput!) {\n    updateServiceTarget(id: $id, input: $input) {\n      ...ServiceTargetFields\n    }\n  }\n": types.UpdateServiceTargetDocument,
    "\n  mutation RemoveServiceTarget($id: ID!) {\n    removeServiceTarget(id: $id)\n  }\n": types.RemoveServiceTargetDocument,
    "\n  mutation ReorderServiceTargets($serviceId: ID!, $targetIds: [ID!]!) {\n    reorderServiceTargets(serviceId: $serviceId, targetIds: $targetIds) {\n      ...ServiceTargetFields\n    }\n  }\n": types.ReorderServiceTargetsDocument,
    "\n  fragment ServiceFields on Service {\n    id\n    serviceName\n    description\n    provider\n    credentialID\n    modelsEnabled\n    allowUnpricedModels\n    active\n    ...ServiceLimitFields\n    bodyCapture {\n      mode\n      samplePercent\n      maxBytes\n      retentionDays\n      redact\n    }\n    credential {\n      id\n      displayName\n      apiKeyLastFour\n      hasApiKey\n      baseUrl\n    }\n    apiKeys {\n      totalCount\n    }\n    spend {\n      ...SpendFields\n    }\n    pace {\n      ...PaceLimitFields\n    }\n    targets {\n      ...ServiceTargetFields\n    }\n  }\n": types.ServiceFieldsFragmentDoc,
    "\n  query Services($after: Cursor, $search: String) {\n    services(first: 24, after: $after, where: { serviceNameContainsFold: $search }, orderBy: { field: SERVICE_NAME }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...ServiceFields\n        }\n      }\n    }\n  }\n": types.ServicesDocument,
    "\n  query ProvidersAndCredentials {\n    providers {\n      name\n      displayName\n      defaultBaseUrl\n      apiStandardHandle\n      clientApis\n      models\n    }\n    providerCredentials(first: 200, orderBy: { field: DISPLAY_NAME }) {\n      edges {\n        node {\n          id\n          provider\n          accountKey\n          displayName\n          apiKeyLastFour\n        }\n      }\n    }\n  }\n": types.ProvidersAndCredentialsDocument,
    "\n  mutation CreateService($input: CreateServiceInput!) {\n    createService(input: $input) {\n      ...ServiceFields\n    }\n  }\n": types.CreateServiceDocument,
    "\n  mutation UpdateService($id: ID!, $input: UpdateServiceInput!) {\n    updateService(id: $id, input: $input) {\n      ...ServiceFields\n    }\n  }\n": types.UpdateServiceDocument,
    "\n  mutation DeleteService($id: ID!) {\n    deleteService(id: $id)\n  }\n": types.DeleteServiceDocument,
    "\n  query ProbeCredential($id: ID!) {\n    providerUsage(credentialId: $id, refresh: true) {\n      ...ProviderUsageFields\n    }\n  }\n": types.ProbeCredentialDocument,
    "\n  query Settings {\n    viewer {\n      organization {\n        ...OrganizationLimits\n      }\n    }\n    projectSettings {\n      id\n      allowOverwrite\n      alertWebhookURL\n    }\n    balance {\n      id\n      currentBalance\n      currency\n      enforced\n    }\n    apiKeys(first: 100, where: { isManagementKey: true }, orderBy: { field: NAME }) {\n      edges {\n        node {\n          id\n          name\n          description\n          keyPrefix\n          keyLastFour\n          lastUsedAt\n        }\n      }\n    }\n  }\n": types.SettingsDocument,
    "\n  fragment OrganizationLimits on Organization {\n    id\n    limitCostHourWarn\n    limitCostHourBlock\n    limitCostDayWarn\n    limitCostDayBlock\n    limitCostMonthWarn\n    limitCostMonthBlock\n    limitCostTotalBlock\n    limitRpm\n    limitTpm\n    limitConcurrency\n  }\n": types.OrganizationLimitsFragmentDoc,
    "\n  mutation UpdateOrganizationLimits($input: UpdateOrganizationLimitsInput!) {\n    updateOrganizationLimits(input: $input) {\n      ...OrganizationLimits\n    }\n  }\n": types.UpdateOrganizationLimitsDocument,
    "\n  mutation UpdateProjectSettings($input: UpdateProjectSettingsInput!) {\n    updateProjectSettings(input: $input) {\n      id\n      allowOverwrite\n      alertWebhookURL\n    }\n  }\n": types.UpdateProjectSettingsDocument,
    "\n  mutation TopUpBalance($amount: USD!) {\n    topUpBalance(amount: $amount) {\n      id\n      currentBalance\n      currency\n      enforced\n    }\n  }\n": types.TopUpBalanceDocument,
    "\n  mutation UpdateBalance($input: UpdateBalanceInput!) {\n    updateBalance(input: $input) {\n      id\n      currentBalance\n      currency\n      enforced\n    }\n  }\n": types.UpdateBalanceDocument,
    "\n  fragment PriceFields on ModelPrice {\n    id\n    provider\n    model\n    inputPerMtok\n    outputPerMtok\n    cachedInputPerMtok\n    cacheWritePerMtok\n    cacheWrite1hPerMtok\n    kind\n    customized\n  }\n": types.PriceFieldsFragmentDoc,
    "\n  query Prices($where: ModelPriceWhereInput) {\n    modelPrices(first: 100, where: $where, orderBy: { field: PROVIDER }) {\n      totalCount\n      edges {\n        node {\n          ...PriceFields\n        }\n      }\n    }\n  }\n": types.PricesDocument,
    "\n  mutation UpdateModelPrice($id: ID!, $input: UpdateModelPriceInput!) {\n    updateModelPrice(id: $id, input: $input) {\n      id\n      inputPerMtok\n      outputPerMtok\n      cachedInputPerMtok\n      cacheWritePerMtok\n      cacheWrite1hPerMtok\n      customized\n    }\n  }\n": types.UpdateModelPriceDocument,
    "\n  mutation CreateModelPrice($input: CreateModelPriceInput!) {\n    createModelPrice(input: $input) {\n      ...PriceFields\n    }\n  }\n": types.CreateModelPriceDocument,
    "\n  query PriceProviders {\n    providers {\n      name\n      displayName\n    }\n  }\n": types.PriceProvidersDocument,
    "\n  query LoginOptions {\n    loginOptions {\n      passwordLogin\n      sso {\n        name\n        loginUrl\n      }\n    }\n  }\n": types.LoginOptionsDocument,
    "\n  query Standards {\n    apiStandards {\n      id\n      apiStandardHandle\n      description\n      keyMethod\n      keyField\n    }\n  }\n": types.StandardsDocument,
    "\n  mutation CreateAPIStandard($input: CreateAPIStandardInput!) {\n    createAPIStandard(input: $input) {\n      id\n      apiStandardHandle\n      description\n      keyMethod\n      keyField\n    }\n  }\n": types.CreateApiStandardDocument,
    "\n  mutation UpdateAPIStandard($handle: String!, $input: UpdateAPIStandardInput!) {\n    updateAPIStandard(handle: $handle, input: $input) {\n      id\n      apiStandardHandle\n      description\n      keyMethod\n      keyField\n    }\n  }\n": types.UpdateApiStandardDocument,
    "\n  mutation DeleteAPIStandard($handle: String!) {\n    deleteAPIStandard(handle: $handle)\n  }\n": types.DeleteApiStandardDocument,
    "\n  query TwoFactorStatus {\n    viewer {\n      twoFactor {\n        enabled\n        enabledAt\n        pending\n        recoveryCodesLeft\n        requiredByOrganization\n      }\n    }\n  }\n": types.TwoFactorStatusDocument,
    "\n  mutation EnrollTwoFactor {\n    enrollTwoFactor {\n      secret\n      uri\n    }\n  }\n": types.EnrollTwoFactorDocument,
    "\n  mutation ConfirmTwoFactor($code: String!) {\n    confirmTwoFactor(code: $code)\n  }\n": types.ConfirmTwoFactorDocument,
    "\n  mutation RegenerateRecoveryCodes($code: String!) {\n    regenerateRecoveryCodes(code: $code)\n  }\n": types.RegenerateRecoveryCodesDocument,
    "\n  mutation DisableTwoFactor($password: String!, $code: String!) {\n    disableTwoFactor(password: $password, code: $code)\n  }\n": types.DisableTwoFactorDocument,
    "\n  mutation LoginTwoFactor($challenge: String!, $code: String!) {\n    loginTwoFactor(challenge: $challenge, code: $code) {\n      token\n    }\n  }\n": types.LoginTwoFactorDocument,
    "\n  mutation SetRequireTwoFactor($required: Boolean!) {\n    setRequireTwoFactor(required: $required) {\n      id\n      requireTwoFactor\n    }\n  }\n": types.SetRequireTwoFactorDocument,
    "\n  query OrganizationTwoFactor {\n    viewer {\n      twoFactor {\n        enabled\n        requiredByOrganization\n      }\n    }\n  }\n": types.OrganizationTwoFactorDocument,
    "\n  mutation ResetTwoFactor($userId: ID!) {\n    resetTwoFactor(userId: $userId)\n  }\n": types.ResetTwoFactorDocument,
    "\n  fragment UsageRecordFields on UsageRecord {\n    id\n    createdAt\n    requestID\n    traceID\n    serviceID\n    apiKeyID\n    protocol\n    providerProtocol\n    endpoint\n    model\n    inputTokens\n    outputTokens\n    cachedInputTokens\n    cacheWriteTokens\n    cost\n    priced\n    status\n    error\n    latencyUs\n    ttfbUs\n    streamed\n    partial\n  }\n": types.UsageRecordFieldsFragmentDoc,
    "\n  query UsageLog($after: Cursor, $where: UsageRecordWhereInput) {\n    usageRecords(first: 50, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      totalCountIsExact\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...UsageRecordFields\n        }\n      }\n    }\n  }\n": types.UsageLogDocument,
    "\n  query UsageRecordDetail($id: ID!) {\n    usageRecords(first: 1, where: { id: $id }) {\n      edges {\n        node {\n          ...UsageRecordFields\n          credentialID\n          cacheWrite1hTokens\n          attempts {\n            targetID\n            credentialID\n            status\n            latencyMs\n            error\n          }\n        }\n      }\n    }\n  }\n": types.UsageRecordDetailDocument,
    "\n  query UsageFilterOptions($since: Time!) {\n    services(first: 200, orderBy: { field: SERVICE_NAME }) {\n      edges {\n        node {\n          id\n          serviceName\n        }\n      }\n    }\n    apiKeys(first: 200, where: { isManagementKey: false }, orderBy: { field: NAME }) {\n      edges {\n        node {\n          id\n          name\n        }\n      }\n    }\n    usage(filter: { from: $since }, bucket: DAY) {\n      byModel {\n        model\n      }\n    }\n  }\n": types.UsageFilterOptionsDocument,
    "\n  fragment SpendFields on Spend {\n    window\n    windowStart\n    spent\n    reserved\n    warn\n    block\n    resetsAt\n  }\n": types.SpendFieldsFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    viewer {\n      username\n      role\n      isManagementKey\n      isInstanceAdmin\n      hasPassword\n      mustEnrollTwoFactor\n      organization {\n        id\n        name\n      }\n      memberships {\n        role\n        organization {\n          id\n          name\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Viewer {\n    viewer {\n      username\n      role\n      isManagementKey\n      isInstanceAdmin\n      hasPassword\n      mustEnrollTwoFactor\n      organization {\n        id\n        name\n      }\n      memberships {\n        role\n        organization {\n          id\n          name\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout {\n    logout\n  }\n"): (typeof documents)["\n  mutation Logout {\n    logout\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SwitchOrganization($id: ID!) {\n    switchOrganization(id: $id) {\n      token\n    }\n  }\n"): (typeof documents)["\n  mutation SwitchOrganization($id: ID!) {\n    switchOrganization(id: $id) {\n      token\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ServiceLimitFields on Service {\n    limitCostHourWarn\n    limitCostHourBlock\n    limitCostDayWarn\n    limitCostDayBlock\n    limitCostMonthWarn\n    limitCostMonthBlock\n    limitCostTotalBlock\n    limitRpm\n    limitTpm\n    limitConcurrency\n  }\n"): (typeof documents)["\n  fragment ServiceLimitFields on Service {\n    limitCostHourWarn\n    limitCostHourBlock\n    limitCostDayWarn\n    limitCostDayBlock\n    limitCostMonthWarn\n    limitCostMonthBlock\n    limitCostTotalBlock\n    limitRpm\n    limitTpm\n    limitConcurrency\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ProviderUsageFields on ProviderUsage {\n    provider\n    accountKey\n    checkedAt\n    reachable\n    error\n    source\n    sampleLatencyMs\n    models\n    rateLimitHeaders\n    tokens { limit remaining used pctUsed resetAt resetInMs }\n    inputTokens { limit remaining used pctUsed resetAt resetInMs }\n    outputTokens { limit remaining used pctUsed resetAt resetInMs }\n    requests { limit remaining resetAt resetInMs }\n  }\n"): (typeof documents)["\n  fragment ProviderUsageFields on ProviderUsage {\n    provider\n    accountKey\n    checkedAt\n    reachable\n    error\n    source\n    sampleLatencyMs\n    models\n    rateLimitHeaders\n    tokens { limit remaining used pctUsed resetAt resetInMs }\n    inputTokens { limit remaining used pctUsed resetAt resetInMs }\n    outputTokens { limit remaining used pctUsed resetAt resetInMs }\n    requests { limit remaining resetAt resetInMs }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation TestProviderCredential($input: TestProviderCredentialInput!) {\n    testProviderCredential(input: $input) {\n      ...ProviderUsageFields\n    }\n  }\n"): (typeof documents)["\n  mutation TestProviderCredential($input: TestProviderCredentialInput!) {\n    testProviderCredential(input: $input) {\n      ...ProviderUsageFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProviderUsage($id: ID!, $refresh: Boolean!) {\n    providerUsage(credentialId: $id, refresh: $refresh) {\n      ...ProviderUsageFields\n    }\n  }\n"): (typeof documents)["\n  query ProviderUsage($id: ID!, $refresh: Boolean!) {\n    providerUsage(credentialId: $id, refresh: $refresh) {\n      ...ProviderUsageFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ProviderUsageChanged($id: ID!) {\n    providerUsageChanged(credentialId: $id) {\n      ...ProviderUsageFields\n    }\n  }\n"): (typeof documents)["\n  subscription ProviderUsageChanged($id: ID!) {\n    providerUsageChanged(credentialId: $id) {\n      ...ProviderUsageFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PaceLimitFields on PaceLimit {\n    kind\n    limit\n    remaining\n    resetsInSeconds\n  }\n"): (typeof documents)["\n  fragment PaceLimitFields on PaceLimit {\n    kind\n    limit\n    remaining\n    resetsInSeconds\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription UsageEvents($serviceId: ID, $apiKeyId: ID) {\n    usageEvents(serviceId: $serviceId, apiKeyId: $apiKeyId) {\n      requestId\n      model\n      status\n      inputTokens\n      outputTokens\n      cost\n      priced\n      latencyMs\n      at\n    }\n  }\n"): (typeof documents)["\n  subscription UsageEvents($serviceId: ID, $apiKeyId: ID) {\n    usageEvents(serviceId: $serviceId, apiKeyId: $apiKeyId) {\n      requestId\n      model\n      status\n      inputTokens\n      outputTokens\n      cost\n      priced\n      latencyMs\n      at\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RequestBodies($id: ID!) {\n    requestBodies(usageRecordId: $id) {\n      capturedAt\n      expiresAt\n      request\n      response\n      requestTruncated\n      responseTruncated\n    }\n  }\n"): (typeof documents)["\n  query RequestBodies($id: ID!) {\n    requestBodies(usageRecordId: $id) {\n      capturedAt\n      expiresAt\n      request\n      response\n      requestTruncated\n      responseTruncated\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AcceptInvitation($token: String!, $username: String, $password: String) {\n    acceptInvitation(token: $token, username: $username, password: $password) {\n      token\n    }\n  }\n"): (typeof documents)["\n  mutation AcceptInvitation($token: String!, $username: String, $password: String) {\n    acceptInvitation(token: $token, username: $username, password: $password) {\n      token\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MySessions {\n    mySessions {\n      id\n      createdAt\n      lastSeenAt\n      expiresAt\n      clientIp\n      userAgent\n      current\n    }\n  }\n"): (typeof documents)["\n  query MySessions {\n    mySessions {\n      id\n      createdAt\n      lastSeenAt\n      expiresAt\n      clientIp\n      userAgent\n      current\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChangePassword($current: String!, $new: String!) {\n    changePassword(current: $current, new: $new) {\n      token\n    }\n  }\n"): (typeof documents)["\n  mutation ChangePassword($current: String!, $new: String!) {\n    changePassword(current: $current, new: $new) {\n      token\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation EndAllSessions {\n    endAllSessions\n  }\n"): (typeof documents)["\n  mutation EndAllSessions {\n    endAllSessions\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment APIKeyFields on APIKey {\n    id\n    name\n    description\n    keyPrefix\n    keyLastFour\n    isActive\n    isManagementKey\n    expiresAt\n    lastUsedAt\n    createdAt\n    limitCostHourWarn\n    limitCostHourBlock\n    limitCostDayWarn\n    limitCostDayBlock\n    limitCostMonthWarn\n    limitCostMonthBlock\n    limitCostTotalBlock\n    limitRpm\n    limitTpm\n    limitConcurrency\n    service {\n      id\n      serviceName\n      spend {\n        ...SpendFields\n      }\n      pace {\n        ...PaceLimitFields\n      }\n    }\n    spend {\n      ...SpendFields\n    }\n    pace {\n      ...PaceLimitFields\n    }\n  }\n"): (typeof documents)["\n  fragment APIKeyFields on APIKey {\n    id\n    name\n    description\n    keyPrefix\n    keyLastFour\n    isActive\n    isManagementKey\n    expiresAt\n    lastUsedAt\n    createdAt\n    limitCostHourWarn\n    limitCostHourBlock\n    limitCostDayWarn\n    limitCostDayBlock\n    limitCostMonthWarn\n    limitCostMonthBlock\n    limitCostTotalBlock\n    limitRpm\n    limitTpm\n    limitConcurrency\n    service {\n      id\n      serviceName\n      spend {\n        ...SpendFields\n      }\n      pace {\n        ...PaceLimitFields\n      }\n    }\n    spend {\n      ...SpendFields\n    }\n    pace {\n      ...PaceLimitFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query APIKeys($after: Cursor, $search: String) {\n    apiKeys(first: 50, after: $after, where: { isManagementKey: false, search: $search }, orderBy: { field: NAME }) {\n      totalCount\n      totalCountIsExact\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...APIKeyFields\n        }\n      }\n    }\n    anyService: services(first: 1) {\n      edges {\n        node {\n          id\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query APIKeys($after: Cursor, $search: String) {\n    apiKeys(first: 50, after: $after, where: { isManagementKey: false, search: $search }, orderBy: { field: NAME }) {\n      totalCount\n      totalCountIsExact\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...APIKeyFields\n        }\n      }\n    }\n    anyService: services(first: 1) {\n      edges {\n        node {\n          id\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ServiceOptionFields on Service {\n    id\n    serviceName\n    provider\n    modelsEnabled\n    active\n    ...ServiceLimitFields\n  }\n"): (typeof documents)["\n  fragment ServiceOptionFields on Service {\n    id\n    serviceName\n    provider\n    modelsEnabled\n    active\n    ...ServiceLimitFields\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query KeyFormServices($search: String) {\n    services(first: 50, where: { serviceNameContainsFold: $search }, orderBy: { field: SERVICE_NAME }) {\n      totalCount\n      edges {\n        node {\n          ...ServiceOptionFields\n        }\n      }\n    }\n    providers {\n      name\n      protocol\n    }\n  }\n"): (typeof documents)["\n  query KeyFormServices($search: String) {\n    services(first: 50, where: { serviceNameContainsFold: $search }, orderBy: { field: SERVICE_NAME }) {\n      totalCount\n      edges {\n        node {\n          ...ServiceOptionFields\n        }\n      }\n    }\n    providers {\n      name\n      protocol\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query KeyService($id: ID!) {\n    service(id: $id) {\n      ...ServiceOptionFields\n    }\n    providers {\n      name\n      protocol\n    }\n  }\n"): (typeof documents)["\n  query KeyService($id: ID!) {\n    service(id: $id) {\n      ...ServiceOptionFields\n    }\n    providers {\n      name\n      protocol\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateAPIKey($input: CreateAPIKeyInput!) {\n    createAPIKey(input: $input) {\n      key\n      apiKey {\n        ...APIKeyFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateAPIKey($input: CreateAPIKeyInput!) {\n    createAPIKey(input: $input) {\n      key\n      apiKey {\n        ...APIKeyFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateAPIKey($id: ID!, $input: UpdateAPIKeyInput!) {\n    updateAPIKey(id: $id, input: $input) {\n      ...APIKeyFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateAPIKey($id: ID!, $input: UpdateAPIKeyInput!) {\n    updateAPIKey(id: $id, input: $input) {\n      ...APIKeyFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RotateAPIKey($id: ID!) {\n    rotateAPIKey(id: $id) {\n      key\n      apiKey {\n        ...APIKeyFields\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation RotateAPIKey($id: ID!) {\n    rotateAPIKey(id: $id) {\n      key\n      apiKey {\n        ...APIKeyFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteAPIKey($name: String!) {\n    deleteAPIKey(name: $name)\n  }\n"): (typeof documents)["\n  mutation DeleteAPIKey($name: String!) {\n    deleteAPIKey(name: $name)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuditLog($after: Cursor, $where: AuditEventWhereInput) {\n    auditEvents(first: 50, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      totalCountIsExact\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          createdAt\n          actorType\n          actorName\n          action\n          targetType\n          targetName\n          outcome\n          error\n          clientIP\n          changes {\n            field\n            value\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AuditLog($after: Cursor, $where: AuditEventWhereInput) {\n    auditEvents(first: 50, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      totalCountIsExact\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          id\n          createdAt\n          actorType\n          actorName\n          action\n          targetType\n          targetName\n          outcome\n          error\n          clientIP\n          changes {\n            field\n            value\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CredentialFields on ProviderCredential {\n    id\n    provider\n    accountKey\n    displayName\n    apiKeyLastFour\n    hasApiKey\n    baseUrl\n    apiStandardHandle\n    active\n    services {\n      totalCount\n    }\n  }\n"): (typeof documents)["\n  fragment CredentialFields on ProviderCredential {\n    id\n    provider\n    accountKey\n    displayName\n    apiKeyLastFour\n    hasApiKey\n    baseUrl\n    apiStandardHandle\n    active\n    services {\n      totalCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Credentials {\n    providerCredentials(first: 200, orderBy: { field: DISPLAY_NAME }) {\n      edges {\n        node {\n          ...CredentialFields\n        }\n      }\n    }\n    apiStandards {\n      apiStandardHandle\n    }\n  }\n"): (typeof documents)["\n  query Credentials {\n    providerCredentials(first: 200, orderBy: { field: DISPLAY_NAME }) {\n      edges {\n        node {\n          ...CredentialFields\n        }\n      }\n    }\n    apiStandards {\n      apiStandardHandle\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateProviderCredential($input: CreateProviderCredentialInput!) {\n    createProviderCredential(input: $input) {\n      ...CredentialFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreateProviderCredential($input: CreateProviderCredentialInput!) {\n    createProviderCredential(input: $input) {\n      ...CredentialFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateProviderCredential($id: ID!, $input: UpdateProviderCredentialInput!) {\n    updateProviderCredential(id: $id, input: $input) {\n      ...CredentialFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateProviderCredential($id: ID!, $input: UpdateProviderCredentialInput!) {\n    updateProviderCredential(id: $id, input: $input) {\n      ...CredentialFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteProviderCredential($id: ID!) {\n    deleteProviderCredential(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteProviderCredential($id: ID!) {\n    deleteProviderCredential(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($username: String!, $password: String!) {\n    login(username: $username, password: $password) {\n      token\n      expiresAt\n      twoFactorChallenge\n    }\n  }\n"): (typeof documents)["\n  mutation Login($username: String!, $password: String!) {\n    login(username: $username, password: $password) {\n      token\n      expiresAt\n      twoFactorChallenge\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Members {\n    members {\n      userId\n      username\n      role\n      joinedAt\n      lastLoginAt\n      isViewer\n      twoFactorEnabled\n    }\n  }\n"): (typeof documents)["\n  query Members {\n    members {\n      userId\n      username\n      role\n      joinedAt\n      lastLoginAt\n      isViewer\n      twoFactorEnabled\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Invitations {\n    invitations {\n      id\n      role\n      note\n      createdAt\n      expiresAt\n      acceptedAt\n      revokedAt\n    }\n  }\n"): (typeof documents)["\n  query Invitations {\n    invitations {\n      id\n      role\n      note\n      createdAt\n      expiresAt\n      acceptedAt\n      revokedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateInvitation($role: Role!, $note: String) {\n    createInvitation(role: $role, note: $note) {\n      token\n      invitation {\n        id\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateInvitation($role: Role!, $note: String) {\n    createInvitation(role: $role, note: $note) {\n      token\n      invitation {\n        id\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeInvitation($id: ID!) {\n    revokeInvitation(id: $id)\n  }\n"): (typeof documents)["\n  mutation RevokeInvitation($id: ID!) {\n    revokeInvitation(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateMemberRole($userId: ID!, $role: Role!) {\n    updateMemberRole(userId: $userId, role: $role) {\n      userId\n      role\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateMemberRole($userId: ID!, $role: Role!) {\n    updateMemberRole(userId: $userId, role: $role) {\n      userId\n      role\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveMember($userId: ID!) {\n    removeMember(userId: $userId)\n  }\n"): (typeof documents)["\n  mutation RemoveMember($userId: ID!) {\n    removeMember(userId: $userId)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Overview($from: Time!, $bucket: UsageBucket!) {\n    organizationSpend {\n      ...SpendFields\n    }\n    organizationPace {\n      ...PaceLimitFields\n    }\n    balance {\n      currentBalance\n      currency\n      enforced\n    }\n    services(first: 24, orderBy: { field: SERVICE_NAME }) {\n      totalCount\n      edges {\n        node {\n          id\n          serviceName\n          provider\n          active\n          spend {\n            ...SpendFields\n          }\n          pace {\n            ...PaceLimitFields\n          }\n        }\n      }\n    }\n    apiKeys(first: 24, where: { isManagementKey: false }, orderBy: { field: NAME }) {\n      totalCount\n      totalCountIsExact\n      edges {\n        node {\n          id\n          name\n          isActive\n          expiresAt\n          service {\n            id\n            serviceName\n          }\n          spend {\n            ...SpendFields\n          }\n          pace {\n            ...PaceLimitFields\n          }\n        }\n      }\n    }\n    usage(filter: { from: $from }, bucket: $bucket) {\n      totals {\n        requests\n        errors\n        refusedRequests\n        unpricedRequests\n        inputTokens\n        outputTokens\n        cacheWriteTokens\n        cost\n        meanLatencyMs\n        latencyP50Ms\n        latencyP95Ms\n        latencyP99Ms\n      }\n      series {\n        start\n        sums {\n          requests\n          cost\n        }\n      }\n      byModel {\n        model\n        sums {\n          requests\n          errors\n          refusedRequests\n          cost\n          inputTokens\n          outputTokens\n          latencyP95Ms\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Overview($from: Time!, $bucket: UsageBucket!) {\n    organizationSpend {\n      ...SpendFields\n    }\n    organizationPace {\n      ...PaceLimitFields\n    }\n    balance {\n      currentBalance\n      currency\n      enforced\n    }\n    services(first: 24, orderBy: { field: SERVICE_NAME }) {\n      totalCount\n      edges {\n        node {\n          id\n          serviceName\n          provider\n          active\n          spend {\n            ...SpendFields\n          }\n          pace {\n            ...PaceLimitFields\n          }\n        }\n      }\n    }\n    apiKeys(first: 24, where: { isManagementKey: false }, orderBy: { field: NAME }) {\n      totalCount\n      totalCountIsExact\n      edges {\n        node {\n          id\n          name\n          isActive\n          expiresAt\n          service {\n            id\n            serviceName\n          }\n          spend {\n            ...SpendFields\n          }\n          pace {\n            ...PaceLimitFields\n          }\n        }\n      }\n    }\n    usage(filter: { from: $from }, bucket: $bucket) {\n      totals {\n        requests\n        errors\n        refusedRequests\n        unpricedRequests\n        inputTokens\n        outputTokens\n        cacheWriteTokens\n        cost\n        meanLatencyMs\n        latencyP50Ms\n        latencyP95Ms\n        latencyP99Ms\n      }\n      series {\n        start\n        sums {\n          requests\n          cost\n        }\n      }\n      byModel {\n        model\n        sums {\n          requests\n          errors\n          refusedRequests\n          cost\n          inputTokens\n          outputTokens\n          latencyP95Ms\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment BreakdownSums on UsageSums {\n    requests\n    errors\n    refusedRequests\n    inputTokens\n    outputTokens\n    cost\n    latencyP50Ms\n    latencyP95Ms\n  }\n"): (typeof documents)["\n  fragment BreakdownSums on UsageSums {\n    requests\n    errors\n    refusedRequests\n    inputTokens\n    outputTokens\n    cost\n    latencyP50Ms\n    latencyP95Ms\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query UsageBreakdown($from: Time!, $bucket: UsageBucket!, $by: UsageSplit!) {\n    usage(filter: { from: $from }, bucket: $bucket) {\n      split(by: $by, first: 6) {\n        key\n        name\n        sums {\n          ...BreakdownSums\n        }\n        series {\n          start\n          sums {\n            ...BreakdownSums\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query UsageBreakdown($from: Time!, $bucket: UsageBucket!, $by: UsageSplit!) {\n    usage(filter: { from: $from }, bucket: $bucket) {\n      split(by: $by, first: 6) {\n        key\n        name\n        sums {\n          ...BreakdownSums\n        }\n        series {\n          start\n          sums {\n            ...BreakdownSums\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ServiceTargetFields on ServiceTarget {\n    id\n    position\n    weight\n    enabled\n    modelMap\n    credential {\n      id\n      displayName\n      provider\n      apiKeyLastFour\n    }\n    state {\n      healthy\n      coolingDownUntil\n      lastError\n      consecutiveFailures\n    }\n  }\n"): (typeof documents)["\n  fragment ServiceTargetFields on ServiceTarget {\n    id\n    position\n    weight\n    enabled\n    modelMap\n    credential {\n      id\n      displayName\n      provider\n      apiKeyLastFour\n    }\n    state {\n      healthy\n      coolingDownUntil\n      lastError\n      consecutiveFailures\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ServiceTargets($id: ID!) {\n    service(id: $id) {\n      id\n      provider\n      targets {\n        ...ServiceTargetFields\n      }\n    }\n  }\n"): (typeof documents)["\n  query ServiceTargets($id: ID!) {\n    service(id: $id) {\n      id\n      provider\n      targets {\n        ...ServiceTargetFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddServiceTarget($serviceId: ID!, $input: AddServiceTargetInput!) {\n    addServiceTarget(serviceId: $serviceId, input: $input) {\n      ...ServiceTargetFields\n    }\n  }\n"): (typeof documents)["\n  mutation AddServiceTarget($serviceId: ID!, $input: AddServiceTargetInput!) {\n    addServiceTarget(serviceId: $serviceId, input: $input) {\n      ...ServiceTargetFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateServiceTarget($id: ID!, $input: UpdateServiceTargetInput!) {\n    updateServiceTarget(id: $id, input: $input) {\n      ...ServiceTargetFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateServiceTarget($id: ID!, $input: UpdateServiceTargetInput!) {\n    updateServiceTarget(id: $id, input: $input) {\n      ...ServiceTargetFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveServiceTarget($id: ID!) {\n    removeServiceTarget(id: $id)\n  }\n"): (typeof documents)["\n  mutation RemoveServiceTarget($id: ID!) {\n    removeServiceTarget(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReorderServiceTargets($serviceId: ID!, $targetIds: [ID!]!) {\n    reorderServiceTargets(serviceId: $serviceId, targetIds: $targetIds) {\n      ...ServiceTargetFields\n    }\n  }\n"): (typeof documents)["\n  mutation ReorderServiceTargets($serviceId: ID!, $targetIds: [ID!]!) {\n    reorderServiceTargets(serviceId: $serviceId, targetIds: $targetIds) {\n      ...ServiceTargetFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ServiceFields on Service {\n    id\n    serviceName\n    description\n    provider\n    credentialID\n    modelsEnabled\n    allowUnpricedModels\n    active\n    ...ServiceLimitFields\n    bodyCapture {\n      mode\n      samplePercent\n      maxBytes\n      retentionDays\n      redact\n    }\n    credential {\n      id\n      displayName\n      apiKeyLastFour\n      hasApiKey\n      baseUrl\n    }\n    apiKeys {\n      totalCount\n    }\n    spend {\n      ...SpendFields\n    }\n    pace {\n      ...PaceLimitFields\n    }\n    targets {\n      ...ServiceTargetFields\n    }\n  }\n"): (typeof documents)["\n  fragment ServiceFields on Service {\n    id\n    serviceName\n    description\n    provider\n    credentialID\n    modelsEnabled\n    allowUnpricedModels\n    active\n    ...ServiceLimitFields\n    bodyCapture {\n      mode\n      samplePercent\n      maxBytes\n      retentionDays\n      redact\n    }\n    credential {\n      id\n      displayName\n      apiKeyLastFour\n      hasApiKey\n      baseUrl\n    }\n    apiKeys {\n      totalCount\n    }\n    spend {\n      ...SpendFields\n    }\n    pace {\n      ...PaceLimitFields\n    }\n    targets {\n      ...ServiceTargetFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Services($after: Cursor, $search: String) {\n    services(first: 24, after: $after, where: { serviceNameContainsFold: $search }, orderBy: { field: SERVICE_NAME }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...ServiceFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Services($after: Cursor, $search: String) {\n    services(first: 24, after: $after, where: { serviceNameContainsFold: $search }, orderBy: { field: SERVICE_NAME }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...ServiceFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProvidersAndCredentials {\n    providers {\n      name\n      displayName\n      defaultBaseUrl\n      apiStandardHandle\n      clientApis\n      models\n    }\n    providerCredentials(first: 200, orderBy: { field: DISPLAY_NAME }) {\n      edges {\n        node {\n          id\n          provider\n          accountKey\n          displayName\n          apiKeyLastFour\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ProvidersAndCredentials {\n    providers {\n      name\n      displayName\n      defaultBaseUrl\n      apiStandardHandle\n      clientApis\n      models\n    }\n    providerCredentials(first: 200, orderBy: { field: DISPLAY_NAME }) {\n      edges {\n        node {\n          id\n          provider\n          accountKey\n          displayName\n          apiKeyLastFour\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateService($input: CreateServiceInput!) {\n    createService(input: $input) {\n      ...ServiceFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreateService($input: CreateServiceInput!) {\n    createService(input: $input) {\n      ...ServiceFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateService($id: ID!, $input: UpdateServiceInput!) {\n    updateService(id: $id, input: $input) {\n      ...ServiceFields\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateService($id: ID!, $input: UpdateServiceInput!) {\n    updateService(id: $id, input: $input) {\n      ...ServiceFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteService($id: ID!) {\n    deleteService(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteService($id: ID!) {\n    deleteService(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProbeCredential($id: ID!) {\n    providerUsage(credentialId: $id, refresh: true) {\n      ...ProviderUsageFields\n    }\n  }\n"): (typeof documents)["\n  query ProbeCredential($id: ID!) {\n    providerUsage(credentialId: $id, refresh: true) {\n      ...ProviderUsageFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Settings {\n    viewer {\n      organization {\n        ...OrganizationLimits\n      }\n    }\n    projectSettings {\n      id\n      allowOverwrite\n      alertWebhookURL\n    }\n    balance {\n      id\n      currentBalance\n      currency\n      enforced\n    }\n    apiKeys(first: 100, where: { isManagementKey: true }, orderBy: { field: NAME }) {\n      edges {\n        node {\n          id\n          name\n          description\n          keyPrefix\n          keyLastFour\n          lastUsedAt\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Settings {\n    viewer {\n      organization {\n        ...OrganizationLimits\n      }\n    }\n    projectSettings {\n      id\n      allowOverwrite\n      alertWebhookURL\n    }\n    balance {\n      id\n      currentBalance\n      currency\n      enforced\n    }\n    apiKeys(first: 100, where: { isManagementKey: true }, orderBy: { field: NAME }) {\n      edges {\n        node {\n          id\n          name\n          description\n          keyPrefix\n          keyLastFour\n          lastUsedAt\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment OrganizationLimits on Organization {\n    id\n    limitCostHourWarn\n    limitCostHourBlock\n    limitCostDayWarn\n    limitCostDayBlock\n    limitCostMonthWarn\n    limitCostMonthBlock\n    limitCostTotalBlock\n    limitRpm\n    limitTpm\n    limitConcurrency\n  }\n"): (typeof documents)["\n  fragment OrganizationLimits on Organization {\n    id\n    limitCostHourWarn\n    limitCostHourBlock\n    limitCostDayWarn\n    limitCostDayBlock\n    limitCostMonthWarn\n    limitCostMonthBlock\n    limitCostTotalBlock\n    limitRpm\n    limitTpm\n    limitConcurrency\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateOrganizationLimits($input: UpdateOrganizationLimitsInput!) {\n    updateOrganizationLimits(input: $input) {\n      ...OrganizationLimits\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateOrganizationLimits($input: UpdateOrganizationLimitsInput!) {\n    updateOrganizationLimits(input: $input) {\n      ...OrganizationLimits\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateProjectSettings($input: UpdateProjectSettingsInput!) {\n    updateProjectSettings(input: $input) {\n      id\n      allowOverwrite\n      alertWebhookURL\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateProjectSettings($input: UpdateProjectSettingsInput!) {\n    updateProjectSettings(input: $input) {\n      id\n      allowOverwrite\n      alertWebhookURL\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation TopUpBalance($amount: USD!) {\n    topUpBalance(amount: $amount) {\n      id\n      currentBalance\n      currency\n      enforced\n    }\n  }\n"): (typeof documents)["\n  mutation TopUpBalance($amount: USD!) {\n    topUpBalance(amount: $amount) {\n      id\n      currentBalance\n      currency\n      enforced\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateBalance($input: UpdateBalanceInput!) {\n    updateBalance(input: $input) {\n      id\n      currentBalance\n      currency\n      enforced\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateBalance($input: UpdateBalanceInput!) {\n    updateBalance(input: $input) {\n      id\n      currentBalance\n      currency\n      enforced\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PriceFields on ModelPrice {\n    id\n    provider\n    model\n    inputPerMtok\n    outputPerMtok\n    cachedInputPerMtok\n    cacheWritePerMtok\n    cacheWrite1hPerMtok\n    kind\n    customized\n  }\n"): (typeof documents)["\n  fragment PriceFields on ModelPrice {\n    id\n    provider\n    model\n    inputPerMtok\n    outputPerMtok\n    cachedInputPerMtok\n    cacheWritePerMtok\n    cacheWrite1hPerMtok\n    kind\n    customized\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Prices($where: ModelPriceWhereInput) {\n    modelPrices(first: 100, where: $where, orderBy: { field: PROVIDER }) {\n      totalCount\n      edges {\n        node {\n          ...PriceFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Prices($where: ModelPriceWhereInput) {\n    modelPrices(first: 100, where: $where, orderBy: { field: PROVIDER }) {\n      totalCount\n      edges {\n        node {\n          ...PriceFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateModelPrice($id: ID!, $input: UpdateModelPriceInput!) {\n    updateModelPrice(id: $id, input: $input) {\n      id\n      inputPerMtok\n      outputPerMtok\n      cachedInputPerMtok\n      cacheWritePerMtok\n      cacheWrite1hPerMtok\n      customized\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateModelPrice($id: ID!, $input: UpdateModelPriceInput!) {\n    updateModelPrice(id: $id, input: $input) {\n      id\n      inputPerMtok\n      outputPerMtok\n      cachedInputPerMtok\n      cacheWritePerMtok\n      cacheWrite1hPerMtok\n      customized\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateModelPrice($input: CreateModelPriceInput!) {\n    createModelPrice(input: $input) {\n      ...PriceFields\n    }\n  }\n"): (typeof documents)["\n  mutation CreateModelPrice($input: CreateModelPriceInput!) {\n    createModelPrice(input: $input) {\n      ...PriceFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PriceProviders {\n    providers {\n      name\n      displayName\n    }\n  }\n"): (typeof documents)["\n  query PriceProviders {\n    providers {\n      name\n      displayName\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query LoginOptions {\n    loginOptions {\n      passwordLogin\n      sso {\n        name\n        loginUrl\n      }\n    }\n  }\n"): (typeof documents)["\n  query LoginOptions {\n    loginOptions {\n      passwordLogin\n      sso {\n        name\n        loginUrl\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Standards {\n    apiStandards {\n      id\n      apiStandardHandle\n      description\n      keyMethod\n      keyField\n    }\n  }\n"): (typeof documents)["\n  query Standards {\n    apiStandards {\n      id\n      apiStandardHandle\n      description\n      keyMethod\n      keyField\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateAPIStandard($input: CreateAPIStandardInput!) {\n    createAPIStandard(input: $input) {\n      id\n      apiStandardHandle\n      description\n      keyMethod\n      keyField\n    }\n  }\n"): (typeof documents)["\n  mutation CreateAPIStandard($input: CreateAPIStandardInput!) {\n    createAPIStandard(input: $input) {\n      id\n      apiStandardHandle\n      description\n      keyMethod\n      keyField\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateAPIStandard($handle: String!, $input: UpdateAPIStandardInput!) {\n    updateAPIStandard(handle: $handle, input: $input) {\n      id\n      apiStandardHandle\n      description\n      keyMethod\n      keyField\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateAPIStandard($handle: String!, $input: UpdateAPIStandardInput!) {\n    updateAPIStandard(handle: $handle, input: $input) {\n      id\n      apiStandardHandle\n      description\n      keyMethod\n      keyField\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteAPIStandard($handle: String!) {\n    deleteAPIStandard(handle: $handle)\n  }\n"): (typeof documents)["\n  mutation DeleteAPIStandard($handle: String!) {\n    deleteAPIStandard(handle: $handle)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TwoFactorStatus {\n    viewer {\n      twoFactor {\n        enabled\n        enabledAt\n        pending\n        recoveryCodesLeft\n        requiredByOrganization\n      }\n    }\n  }\n"): (typeof documents)["\n  query TwoFactorStatus {\n    viewer {\n      twoFactor {\n        enabled\n        enabledAt\n        pending\n        recoveryCodesLeft\n        requiredByOrganization\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation EnrollTwoFactor {\n    enrollTwoFactor {\n      secret\n      uri\n    }\n  }\n"): (typeof documents)["\n  mutation EnrollTwoFactor {\n    enrollTwoFactor {\n      secret\n      uri\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ConfirmTwoFactor($code: String!) {\n    confirmTwoFactor(code: $code)\n  }\n"): (typeof documents)["\n  mutation ConfirmTwoFactor($code: String!) {\n    confirmTwoFactor(code: $code)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RegenerateRecoveryCodes($code: String!) {\n    regenerateRecoveryCodes(code: $code)\n  }\n"): (typeof documents)["\n  mutation RegenerateRecoveryCodes($code: String!) {\n    regenerateRecoveryCodes(code: $code)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DisableTwoFactor($password: String!, $code: String!) {\n    disableTwoFactor(password: $password, code: $code)\n  }\n"): (typeof documents)["\n  mutation DisableTwoFactor($password: String!, $code: String!) {\n    disableTwoFactor(password: $password, code: $code)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation LoginTwoFactor($challenge: String!, $code: String!) {\n    loginTwoFactor(challenge: $challenge, code: $code) {\n      token\n    }\n  }\n"): (typeof documents)["\n  mutation LoginTwoFactor($challenge: String!, $code: String!) {\n    loginTwoFactor(challenge: $challenge, code: $code) {\n      token\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetRequireTwoFactor($required: Boolean!) {\n    setRequireTwoFactor(required: $required) {\n      id\n      requireTwoFactor\n    }\n  }\n"): (typeof documents)["\n  mutation SetRequireTwoFactor($required: Boolean!) {\n    setRequireTwoFactor(required: $required) {\n      id\n      requireTwoFactor\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query OrganizationTwoFactor {\n    viewer {\n      twoFactor {\n        enabled\n        requiredByOrganization\n      }\n    }\n  }\n"): (typeof documents)["\n  query OrganizationTwoFactor {\n    viewer {\n      twoFactor {\n        enabled\n        requiredByOrganization\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResetTwoFactor($userId: ID!) {\n    resetTwoFactor(userId: $userId)\n  }\n"): (typeof documents)["\n  mutation ResetTwoFactor($userId: ID!) {\n    resetTwoFactor(userId: $userId)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment UsageRecordFields on UsageRecord {\n    id\n    createdAt\n    requestID\n    traceID\n    serviceID\n    apiKeyID\n    protocol\n    providerProtocol\n    endpoint\n    model\n    inputTokens\n    outputTokens\n    cachedInputTokens\n    cacheWriteTokens\n    cost\n    priced\n    status\n    error\n    latencyUs\n    ttfbUs\n    streamed\n    partial\n  }\n"): (typeof documents)["\n  fragment UsageRecordFields on UsageRecord {\n    id\n    createdAt\n    requestID\n    traceID\n    serviceID\n    apiKeyID\n    protocol\n    providerProtocol\n    endpoint\n    model\n    inputTokens\n    outputTokens\n    cachedInputTokens\n    cacheWriteTokens\n    cost\n    priced\n    status\n    error\n    latencyUs\n    ttfbUs\n    streamed\n    partial\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query UsageLog($after: Cursor, $where: UsageRecordWhereInput) {\n    usageRecords(first: 50, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      totalCountIsExact\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...UsageRecordFields\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query UsageLog($after: Cursor, $where: UsageRecordWhereInput) {\n    usageRecords(first: 50, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      totalCountIsExact\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      edges {\n        node {\n          ...UsageRecordFields\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query UsageRecordDetail($id: ID!) {\n    usageRecords(first: 1, where: { id: $id }) {\n      edges {\n        node {\n          ...UsageRecordFields\n          credentialID\n          cacheWrite1hTokens\n          attempts {\n            targetID\n            credentialID\n            status\n            latencyMs\n            error\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query UsageRecordDetail($id: ID!) {\n    usageRecords(first: 1, where: { id: $id }) {\n      edges {\n        node {\n          ...UsageRecordFields\n          credentialID\n          cacheWrite1hTokens\n          attempts {\n            targetID\n            credentialID\n            status\n            latencyMs\n            error\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query UsageFilterOptions($since: Time!) {\n    services(first: 200, orderBy: { field: SERVICE_NAME }) {\n      edges {\n        node {\n          id\n          serviceName\n        }\n      }\n    }\n    apiKeys(first: 200, where: { isManagementKey: false }, orderBy: { field: NAME }) {\n      edges {\n        node {\n          id\n          name\n        }\n      }\n    }\n    usage(filter: { from: $since }, bucket: DAY) {\n      byModel {\n        model\n      }\n    }\n  }\n"): (typeof documents)["\n  query UsageFilterOptions($since: Time!) {\n    services(first: 200, orderBy: { field: SERVICE_NAME }) {\n      edges {\n        node {\n          id\n          serviceName\n        }\n      }\n    }\n    apiKeys(first: 200, where: { isManagementKey: false }, orderBy: { field: NAME }) {\n      edges {\n        node {\n          id\n          name\n        }\n      }\n    }\n    usage(filter: { from: $since }, bucket: DAY) {\n      byModel {\n        model\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment SpendFields on Spend {\n    window\n    windowStart\n    spent\n    reserved\n    warn\n    block\n    resetsAt\n  }\n"): (typeof documents)["\n  fragment SpendFields on Spend {\n    window\n    windowStart\n    spent\n    reserved\n    warn\n    block\n    resetsAt\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;