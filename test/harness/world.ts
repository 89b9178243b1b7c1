// The prod stack's three rotations played against the fake APIs with a simulated clock: the fakes,
// the simulated cluster, the program's resources in dependency order, and one provider host per run.
import { FakeClock } from "../fakes/faults";
import { InfisicalFake, startInfisicalFake } from "../fakes/infisical";
import { OpenRouterFake, startOpenRouterFake } from "../fakes/openrouter";
import { infisicalClientSecretProvider } from "../../providers/InfisicalClientSecret";
import { infisicalSecretValueProvider } from "../../providers/InfisicalSecretValue";
import { openRouterKeyProvider } from "../../providers/OpenRouterKey";
import { managementKey, programClientId, programClientSecret } from "../support/placeholders";
import { SerializedProviderHost, startSerializedProviderHost } from "../support/serializedProvider";
import { HarnessProvider, MiniEngine, Props, ResourceDeclaration, RunResult } from "./engine";
import {
  SimulatedCluster,
  authSecretProvider,
  graceProvider,
  HoldRecord,
  randomBytesProvider,
  rotatingProvider,
} from "./localProviders";

export const projectSlug = "anything-llm";
export const environment = "prod";
export const programIdentityId = "0b5c3f9e-2d41-4a8c-9e67-3f1d2a4b5c6d";
export const operatorIdentityId = "6e2a9d14-8b3c-4f71-a0d5-9c8e7f6a5b4c";
export const operatorClientId = "c4f1e2d3-5a6b-4c7d-8e9f-0a1b2c3d4e5f";

/** Name prefix of the managed OpenRouter keys and description prefix of the client secrets. */
export const keyNamePrefix = "anythingllm-prod-openrouter";
export const clientSecretPrefix = "anythingllm-prod-operator";

const dayMs = 24 * 60 * 60 * 1000;

/** The fixed wait that the sync gate replaces, the `gracePeriodSeconds` default. */
const fixedWaitSeconds = 120;

/** Rotation periods of the prod stack in days, and the early margin that a daily schedule needs. */
export interface RotationSchedule {
  openrouterDays: number;
  jwtDays: number;
  clientSecretDays: number;
  toleranceMinutes: number;
}

type ProviderName = "openRouterKey" | "infisicalSecretValue" | "infisicalClientSecret";

/** Environment of each provider host: short retries and timeouts, so faults cost milliseconds. */
const hostEnv: Record<string, string> = {
  ANYTHINGLLM_HTTP_RETRY_BASE_MS: "5",
  ANYTHINGLLM_HTTP_TIMEOUT_MS: "400",
};

/** Simulated cluster: the operator copies the environment's secrets with the auth Secret's login. */
export class Cluster implements SimulatedCluster {
  authSecret?: { clientId: string; clientSecret: string };
  readonly managedSecret: Record<string, string> = {};
  syncs = 0;

  constructor(private readonly infisical: InfisicalFake) {}

  async sync(): Promise<boolean> {
    const auth = this.authSecret;
    if (auth === undefined || !this.infisical.canLogin(auth.clientId, auth.clientSecret)) {
      return false;
    }
    for (const name of ["OPENROUTER_API_KEY", "JWT_SECRET"]) {
      const value = this.infisical.getSecretValue(projectSlug, environment, "/", name);
      if (value !== undefined) {
        this.managedSecret[name] = value;
      }
    }
    this.syncs += 1;
    return true;
  }
}

/** The fakes, the cluster, the state file and the program of one simulated stack. */
export class World {
  readonly engine = new MiniEngine();
  /** How long each grace step would have held its rotation; see `graceProvider`. */
  readonly holds: HoldRecord[] = [];
  private host?: SerializedProviderHost<ProviderName>;
  private texts?: Record<ProviderName, string>;

  private constructor(
    readonly clock: FakeClock,
    readonly openrouter: OpenRouterFake,
    readonly infisical: InfisicalFake,
    readonly cluster: Cluster,
    readonly schedule: RotationSchedule,
  ) {}

  /** Starts the fakes at `startMs` with the program's and the operator's identities. */
  static async start(schedule: RotationSchedule, startMs: number): Promise<World> {
    const clock = new FakeClock({ startMs, frozen: true });
    const openrouter = await startOpenRouterFake({ managementKeys: [managementKey], clock });
    const infisical = await startInfisicalFake({ clock });
    infisical.addProject({
      id: "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
      slug: projectSlug,
      environments: ["dev", "staging", environment],
    });
    infisical.addIdentity({ id: programIdentityId, clientId: programClientId, role: "writer" });
    infisical.addClientSecret(programIdentityId, { secret: programClientSecret });
    infisical.addIdentity({ id: operatorIdentityId, clientId: operatorClientId, role: "reader" });
    return new World(clock, openrouter, infisical, new Cluster(infisical), schedule);
  }

  async stop(): Promise<void> {
    await this.host?.close();
    await Promise.all([this.openrouter.close(), this.infisical.close()]);
  }

  /** Runs one `pulumi up --refresh` in a fresh provider host, as a scheduled run does. */
  async up(): Promise<RunResult> {
    this.host = await startSerializedProviderHost(
      {
        openRouterKey: openRouterKeyProvider,
        infisicalSecretValue: infisicalSecretValueProvider,
        infisicalClientSecret: infisicalClientSecretProvider,
      },
      {
        config: {
          "anythingllm-secrets:openrouterManagementKey": managementKey,
          "anythingllm-secrets:infisicalClientId": programClientId,
          "anythingllm-secrets:infisicalClientSecret": programClientSecret,
        },
        env: hostEnv,
      },
    );
    this.texts = this.host.texts;
    try {
      return await this.engine.up(this.program());
    } finally {
      await this.host.close();
      this.host = undefined;
    }
  }

  /** Calls the named provider in the host of the current run, so a state entry outlives its host. */
  private serialized(name: ProviderName): HarnessProvider {
    const call =
      (method: "check" | "diff" | "create" | "read" | "update" | "delete") =>
      (...args: unknown[]) => {
        if (this.host === undefined) {
          throw new Error("harness: no provider host is running");
        }
        return this.host.call(name, method, ...args);
      };
    return {
      check: call("check") as HarnessProvider["check"],
      diff: call("diff") as HarnessProvider["diff"],
      create: call("create") as HarnessProvider["create"],
      read: call("read") as HarnessProvider["read"],
      update: call("update") as HarnessProvider["update"],
      delete: call("delete") as HarnessProvider["delete"],
    };
  }

  private rotationMinutes(days: number): number {
    return days * 24 * 60 - this.schedule.toleranceMinutes;
  }

  /** Returns the program's resources in dependency order, as the components declare them. */
  program(): ResourceDeclaration[] {
    const texts = this.texts;
    const secret = (
      urn: string,
      secretName: string,
      value: (o: (u: string) => Props) => string,
    ) => ({
      urn,
      provider: this.serialized("infisicalSecretValue"),
      providerText: texts?.infisicalSecretValue,
      dependsOn: [],
      inputs: (o: (u: string) => Props) => ({
        apiUrl: this.infisical.apiUrl,
        projectSlug,
        environment,
        secretPath: "/",
        secretName,
        value: value(o),
      }),
    });
    const rotator = (urn: string, days: number): ResourceDeclaration => ({
      urn,
      provider: rotatingProvider(this.clock),
      dependsOn: [],
      inputs: () => ({ rotationMinutes: this.rotationMinutes(days), triggers: {} }),
    });

    return [
      rotator("openrouter-rotator", this.schedule.openrouterDays),
      {
        urn: "openrouter-key",
        provider: this.serialized("openRouterKey"),
        providerText: texts?.openRouterKey,
        dependsOn: ["openrouter-rotator"],
        inputs: (o) => ({
          apiUrl: this.openrouter.url,
          namePrefix: keyNamePrefix,
          rotationTrigger: o("openrouter-rotator").rfc3339,
        }),
      },
      secret("openrouter-secret", "OPENROUTER_API_KEY", (o) => o("openrouter-key").key),
      {
        urn: "openrouter-grace",
        provider: graceProvider(this.cluster, this.holds, fixedWaitSeconds),
        dependsOn: ["openrouter-secret"],
        inputs: (o) => ({ triggers: { keyHash: o("openrouter-key").hash } }),
      },
      rotator("jwt-rotator", this.schedule.jwtDays),
      {
        urn: "jwt-bytes",
        provider: randomBytesProvider(),
        dependsOn: ["jwt-rotator"],
        inputs: (o) => ({ length: 32, keepers: { rotation: o("jwt-rotator").rfc3339 } }),
      },
      secret("jwt-secret", "JWT_SECRET", (o) => o("jwt-bytes").hex),
      rotator("client-secret-rotator", this.schedule.clientSecretDays),
      {
        urn: "client-secret",
        provider: this.serialized("infisicalClientSecret"),
        providerText: texts?.infisicalClientSecret,
        dependsOn: ["client-secret-rotator"],
        inputs: (o) => ({
          apiUrl: this.infisical.apiUrl,
          identityId: operatorIdentityId,
          clientId: operatorClientId,
          rotationTrigger: o("client-secret-rotator").rfc3339,
          descriptionPrefix: clientSecretPrefix,
          ttlSeconds: (this.schedule.clientSecretDays + 7) * 86_400,
        }),
      },
      {
        urn: "auth-secret",
        provider: authSecretProvider(this.cluster),
        dependsOn: ["client-secret"],
        inputs: (o) => ({
          clientId: operatorClientId,
          clientSecret: o("client-secret").clientSecret,
        }),
      },
      {
        urn: "client-secret-grace",
        provider: graceProvider(this.cluster, this.holds, fixedWaitSeconds),
        dependsOn: ["auth-secret"],
        inputs: (o) => ({ triggers: { clientSecretId: o("client-secret").clientSecretId } }),
      },
    ];
  }

  /** Moves both fakes and the rotators' clock forward. */
  advance(ms: number): void {
    this.clock.advance(ms);
  }

  advanceDays(days: number): void {
    this.advance(days * dayMs);
  }

  /** Managed OpenRouter keys that still exist. */
  liveManagedKeys() {
    return this.openrouter.liveKeys().filter((key) => key.name.startsWith(keyNamePrefix));
  }

  /** Managed client secrets of the operator identity that are neither revoked nor past their TTL. */
  liveManagedClientSecrets() {
    const now = this.clock.now();
    return this.infisical
      .clientSecrets(operatorIdentityId)
      .filter((secret) => !secret.revoked && secret.description.startsWith(clientSecretPrefix))
      .filter((secret) => secret.ttl === 0 || secret.createdAtMs + secret.ttl * 1000 > now);
  }

  /** Total API requests both fakes received so far. */
  requestCount(): number {
    return this.openrouter.requests.length + this.infisical.requests.length;
  }
}
