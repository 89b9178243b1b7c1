import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** Data keys of the credentials Secret; the operator reads exactly these names. */
export const authSecretKeys = ["clientId", "clientSecret"] as const;

/** Annotation that makes the operator restart a workload when its managed Secret changes. */
export const autoReloadAnnotation = "secrets.infisical.com/auto-reload";

/** API version and kind of the operator's custom resource. */
export const infisicalSecretApiVersion = "secrets.infisical.com/v1alpha1";
export const infisicalSecretKind = "InfisicalSecret";

/** Builds the `stringData` of the credentials Secret the operator logs in with. */
export function authSecretStringData(
  clientId: string,
  clientSecret: string,
): Record<(typeof authSecretKeys)[number], string> {
  return { clientId, clientSecret };
}

/** Builds the annotations that opt a Deployment into the operator's auto-reload. */
export function autoReloadAnnotations(): Record<string, string> {
  // The operator compares the value with the exact string "true".
  return { [autoReloadAnnotation]: "true" };
}

/** Plain values of an InfisicalSecret spec. */
export interface InfisicalSecretSpecParams {
  hostApi: string;
  resyncInterval: string;
  projectSlug: string;
  envSlug: string;
  secretsPath: string;
  credentialsSecretName: string;
  credentialsSecretNamespace: string;
  managedSecretName: string;
  managedSecretNamespace: string;
}

/**
 * Builds the InfisicalSecret spec with the current fields of v1alpha1: `syncConfig.resyncInterval`
 * (not the deprecated integer `resyncInterval`) and `managedKubeSecretReferences` (not the
 * deprecated `managedSecretReference`). `Orphan` keeps the managed Secret when the CR is deleted.
 */
export function infisicalSecretSpec(params: InfisicalSecretSpecParams) {
  return {
    hostAPI: params.hostApi,
    syncConfig: { resyncInterval: params.resyncInterval },
    authentication: {
      universalAuth: {
        secretsScope: {
          projectSlug: params.projectSlug,
          envSlug: params.envSlug,
          secretsPath: params.secretsPath,
        },
        credentialsRef: {
          secretName: params.credentialsSecretName,
          secretNamespace: params.credentialsSecretNamespace,
        },
      },
    },
    managedKubeSecretReferences: [
      {
        secretName: params.managedSecretName,
        secretNamespace: params.managedSecretNamespace,
        creationPolicy: "Orphan",
      },
    ],
  };
}

/** Arguments of {@link SecretSync}. */
export interface SecretSyncArgs {
  /** Namespace of AnythingLLM: the credentials Secret, the CR and the managed Secret go here. */
  namespace: pulumi.Input<string>;
  /** Name of the credentials Secret with the keys clientId and clientSecret. */
  authSecretName: pulumi.Input<string>;
  /** Name of the Secret the operator writes the synced secrets into. */
  managedSecretName: pulumi.Input<string>;
  /** Universal-auth client id of the operator's identity. */
  clientId: pulumi.Input<string>;
  /** Current client secret of the operator's identity. */
  clientSecret: pulumi.Input<string>;
  /** Infisical API base ending in `/api`. */
  hostApi: pulumi.Input<string>;
  projectSlug: pulumi.Input<string>;
  envSlug: pulumi.Input<string>;
  /** Infisical folder path, starting with "/". */
  secretsPath: pulumi.Input<string>;
  /** Operator sync interval such as `60s`. */
  resyncInterval: pulumi.Input<string>;
  /** Name of the InfisicalSecret; default the component name. */
  infisicalSecretName?: pulumi.Input<string>;
  /** AnythingLLM Deployment to annotate for auto-reload. */
  deploymentName: pulumi.Input<string>;
  /** Whether to annotate the Deployment; default true. */
  patchDeployment?: boolean;
  /** The operator's Helm release, which installs the CRD the InfisicalSecret needs. */
  operatorRelease?: pulumi.Resource;
}

/**
 * The link between Infisical and the cluster: the operator's credentials Secret, the
 * InfisicalSecret that syncs AnythingLLM's secrets into the managed Secret, and the auto-reload
 * annotation on AnythingLLM's Deployment.
 */
export class SecretSync extends pulumi.ComponentResource {
  /** Name of the credentials Secret. */
  readonly authSecretName: pulumi.Output<string>;
  /** Namespace of the credentials Secret, the CR and the managed Secret. */
  readonly namespace: pulumi.Output<string>;
  /** Name of the InfisicalSecret. */
  readonly infisicalSecretName: pulumi.Output<string>;
  /** Name of the Secret the operator manages. */
  readonly managedSecretName: pulumi.Output<string>;
  /** The credentials Secret; a client-secret rotation waits for its update. */
  readonly authSecret: k8s.core.v1.Secret;
  /**
   * The InfisicalSecret and, when enabled, the auto-reload patch: what must exist before a
   * rotation can see its new value reach the managed Secret and the pods.
   */
  readonly syncResources: pulumi.Resource[];

  constructor(name: string, args: SecretSyncArgs, opts?: pulumi.ComponentResourceOptions) {
    super("anythingllm:sync:SecretSync", name, {}, opts);

    this.authSecret = new k8s.core.v1.Secret(
      `${name}-auth`,
      {
        metadata: { name: args.authSecretName, namespace: args.namespace },
        type: "Opaque",
        stringData: pulumi.secret(
          pulumi
            .all([args.clientId, args.clientSecret])
            .apply(([clientId, clientSecret]) => authSecretStringData(clientId, clientSecret)),
        ),
      },
      { parent: this },
    );

    const infisicalSecret = this.createInfisicalSecret(name, args);
    this.syncResources = [infisicalSecret];

    if (args.patchDeployment ?? true) {
      const autoReload = new k8s.apps.v1.DeploymentPatch(
        `${name}-auto-reload`,
        {
          metadata: {
            name: args.deploymentName,
            namespace: args.namespace,
            annotations: autoReloadAnnotations(),
          },
        },
        { parent: this },
      );
      this.syncResources.push(autoReload);
    }

    this.authSecretName = this.authSecret.metadata.name;
    this.namespace = this.authSecret.metadata.namespace;
    this.infisicalSecretName = infisicalSecret.metadata.name;
    this.managedSecretName = pulumi.output(args.managedSecretName);
    this.registerOutputs({
      authSecretName: this.authSecretName,
      namespace: this.namespace,
      infisicalSecretName: this.infisicalSecretName,
      managedSecretName: this.managedSecretName,
    });
  }

  private createInfisicalSecret(name: string, args: SecretSyncArgs) {
    const spec = pulumi
      .all([
        args.hostApi,
        args.resyncInterval,
        args.projectSlug,
        args.envSlug,
        args.secretsPath,
        this.authSecret.metadata.name,
        this.authSecret.metadata.namespace,
        args.managedSecretName,
        args.namespace,
      ])
      .apply(([hostApi, resyncInterval, projectSlug, envSlug, secretsPath, ...names]) =>
        infisicalSecretSpec({
          hostApi,
          resyncInterval,
          projectSlug,
          envSlug,
          secretsPath,
          credentialsSecretName: names[0],
          credentialsSecretNamespace: names[1],
          managedSecretName: names[2],
          managedSecretNamespace: names[3],
        }),
      );

    return new k8s.apiextensions.CustomResource(
      `${name}-infisical-secret`,
      {
        apiVersion: infisicalSecretApiVersion,
        kind: infisicalSecretKind,
        metadata: { name: args.infisicalSecretName ?? name, namespace: args.namespace },
        spec,
      },
      { parent: this, dependsOn: args.operatorRelease ? [args.operatorRelease] : [] },
    );
  }
}
