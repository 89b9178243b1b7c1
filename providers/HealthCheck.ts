// A dynamic resource that checks an AnythingLLM URL after a rotation and fails the run when the
// application does not answer with a 2xx status in time.
import * as pulumi from "@pulumi/pulumi";

import { endpointOf, maxResponseBytes, readEnvMs, requestTimeoutMs, sleep } from "./http";
import { changedProperties, createInputChecker, withoutUndefined } from "./inputs";

/** Default time the application gets to respond with a 2xx status, in seconds. */
export const defaultHealthCheckTimeoutSeconds = 300;

/** Arguments of {@link HealthCheck}. */
export interface HealthCheckArgs {
  /** URL that answers 2xx while AnythingLLM works, e.g. `https://llm.example.com/api/ping`. */
  url: pulumi.Input<string>;
  /** Value whose change runs the check again, such as the digest of a new secret. */
  trigger: pulumi.Input<string>;
  /** Seconds the application gets to respond with a 2xx status, 1 to 3600. Default 300. */
  timeoutSeconds?: pulumi.Input<number>;
}

/** Resolved inputs of the health check provider. */
export interface HealthCheckInputs {
  url: string;
  trigger: string;
  timeoutSeconds: number;
}

/** Stored outputs: the inputs and what the check saw. */
export interface HealthCheckOutputs extends HealthCheckInputs {
  checkedAt: string;
  status: number;
  attempts: number;
}

// Inputs whose change runs the check again; a new timeout applies from the next check on.
const healthCheckReplaceProperties = ["url", "trigger"];

/** Compares stored outputs with new inputs: a new URL or trigger replaces, so the check runs. */
export function diffHealthCheck(
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): pulumi.dynamic.DiffResult {
  const replaces = changedProperties(olds, news, healthCheckReplaceProperties);
  const updates = changedProperties(olds, news, ["timeoutSeconds"]);
  return {
    changes: replaces.length + updates.length > 0,
    replaces,
    deleteBeforeReplace: false,
  };
}

/**
 * Requests `inputs.url` until it responds with a 2xx status or the timeout passes. Requests start every 2 s
 * (`ANYTHINGLLM_HEALTH_POLL_MS`). The error names the URL without its query string and the last
 * status or connection failure seen, never a response body.
 */
async function waitForHealthy(inputs: HealthCheckInputs): Promise<HealthCheckOutputs> {
  const axios = require("axios");
  const deadlineMs = Date.now() + inputs.timeoutSeconds * 1000;
  const pollMs = readEnvMs("ANYTHINGLLM_HEALTH_POLL_MS", 2_000);
  let attempts = 0;
  let lastSeen = "no answer";

  while (true) {
    attempts += 1;
    try {
      // NOTE: a request started just before the deadline may run its full timeout past it.
      const response = await axios.get(inputs.url, {
        timeout: requestTimeoutMs(),
        // Also ends a response whose body trickles in, which the idle timeout above misses.
        signal: AbortSignal.timeout(requestTimeoutMs()),
        maxContentLength: maxResponseBytes,
        maxRedirects: 0,
        validateStatus: () => true,
        responseType: "text",
      });
      if (response.status >= 200 && response.status < 300) {
        return {
          ...inputs,
          checkedAt: new Date().toISOString(),
          status: response.status,
          attempts,
        };
      }
      lastSeen = `status ${response.status}`;
      if (response.status >= 300 && response.status < 400) {
        lastSeen += " (a redirect, which the check does not follow; give the final URL)";
      }
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === "ERR_CANCELED") {
        lastSeen = "a timeout";
      } else {
        lastSeen = typeof code === "string" ? code : "a failed connection";
      }
    }
    if (Date.now() + pollMs >= deadlineMs) {
      break;
    }
    await sleep(pollMs);
  }

  throw new Error(
    `AnythingLLM health check failed: GET ${endpointOf(inputs.url)} did not answer with a 2xx ` +
      `status within ${inputs.timeoutSeconds} s (${attempts} requests, last: ${lastSeen}). ` +
      "The new secret is already in Infisical; check the AnythingLLM pods " +
      "(`kubectl rollout status`), then run `pulumi up` again to repeat the check.",
  );
}

/** Provider of {@link HealthCheck}. */
export const healthCheckProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: Record<string, unknown>, news: Record<string, unknown>) {
    const inputs = {
      ...news,
      timeoutSeconds: news.timeoutSeconds ?? defaultHealthCheckTimeoutSeconds,
    };
    const checker = createInputChecker(inputs);
    checker.requireUrl("url");
    checker.requireString("trigger");
    checker.optionalNumber("timeoutSeconds", 1, 3600, true);
    return { inputs: withoutUndefined(inputs), failures: checker.failures };
  },

  async diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
    return diffHealthCheck(olds, news);
  },

  async create(inputs: HealthCheckInputs) {
    const outs = await waitForHealthy(inputs);
    return { id: `health-${outs.checkedAt}`, outs };
  },

  async read(id: string, props: Record<string, unknown>) {
    return { id, props };
  },

  async update(_id: string, olds: HealthCheckOutputs, news: HealthCheckInputs) {
    return { outs: { ...olds, timeoutSeconds: news.timeoutSeconds } };
  },

  async delete() {
    // Nothing exists outside the state.
  },
};

/**
 * A check that AnythingLLM answers 2xx at a URL, run again whenever `trigger` changes. It fails the
 * run when the application stays unhealthy, so a broken rotation is reported where it happened.
 */
export class HealthCheck extends pulumi.dynamic.Resource {
  declare readonly checkedAt: pulumi.Output<string>;
  declare readonly status: pulumi.Output<number>;

  constructor(name: string, args: HealthCheckArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      healthCheckProvider,
      name,
      { ...args, checkedAt: undefined, status: undefined, attempts: undefined },
      opts,
      "anythingllm",
      "HealthCheck",
    );
  }
}
