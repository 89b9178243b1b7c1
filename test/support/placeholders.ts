// Placeholder credentials of the provider tests, and the check that none of them leaks.
import assert from "node:assert/strict";

/** OpenRouter management key of the program. */
export const managementKey = "mgmt-PLACEHOLDER-123";

/** Universal-auth client id of the program's own Infisical identity. */
export const programClientId = "5d0f1a6e-3c1b-4c8e-9a57-2b8e6f4d7c10";

/** Universal-auth client secret of the program's own Infisical identity. */
export const programClientSecret = "cs-PROGRAM-PLACEHOLDER";

/** Client secret of the operator identity before a rotation. */
export const oldOperatorClientSecret = "cs-OLD-PLACEHOLDER";

/** Stack config that hands every program credential to a provider's `configure`. */
export const providerConfig: Record<string, string> = {
  "anythingllm-secrets:openrouterManagementKey": managementKey,
  "anythingllm-secrets:infisicalClientId": programClientId,
  "anythingllm-secrets:infisicalClientSecret": programClientSecret,
};

/** Environment that keeps retries and timeouts short in tests. */
export const fastHttpEnv: Record<string, string> = {
  ANYTHINGLLM_HTTP_RETRY_BASE_MS: "20",
  ANYTHINGLLM_HTTP_TIMEOUT_MS: "3000",
};

/** Asserts that `text` contains none of `secrets` and not the word "Bearer". */
export function assertNoSecrets(text: string, secrets: string[], where: string): void {
  for (const secret of secrets) {
    assert.ok(!text.includes(secret), `${where} contains the secret ${secret}`);
  }
  assert.ok(!/bearer/i.test(text), `${where} contains the word Bearer`);
}

/** Returns the error a promise rejects with; fails when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error, "the rejection is not an Error");
    return error;
  }
  assert.fail("the promise resolved, but a rejection was expected");
}
