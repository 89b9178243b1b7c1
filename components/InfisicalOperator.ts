import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** Helm repository of Infisical's charts. */
export const operatorChartRepository =
  "https://dl.cloudsmith.io/public/infisical/helm-charts/helm/charts/";

/** Name of the Infisical secrets-operator chart in that repository. */
export const operatorChartName = "secrets-operator";

/** Chart values this program sets; every other value keeps the chart's default. */
export interface OperatorHelmValues {
  /** Default Infisical API base for InfisicalSecrets that set no hostAPI. */
  hostAPI: string;
  /** Whether the chart installs and upgrades the operator's CRDs. */
  installCRDs: boolean;
}

/** Builds the chart values for an Infisical API base ending in `/api`. */
export function operatorHelmValues(hostApi: string, installCrds = true): OperatorHelmValues {
  return { hostAPI: hostApi, installCRDs: installCrds };
}

/** Arguments of {@link InfisicalOperator}. */
export interface InfisicalOperatorArgs {
  /** Namespace created for the release (RFC 1123 label). */
  namespace: pulumi.Input<string>;
  /** Chart version; secrets-operator versions carry a leading "v", e.g. v0.11.5. */
  chartVersion: pulumi.Input<string>;
  /** Infisical API base ending in `/api`, the operator's default host. */
  hostApi: pulumi.Input<string>;
  /** Whether the chart installs the CRDs; default true. */
  installCrds?: boolean;
  /** Helm release name; default the component name. */
  releaseName?: pulumi.Input<string>;
}

/**
 * The Infisical secrets-operator: a namespace and the Helm release of chart `secrets-operator`.
 * The chart creates no namespace of its own, so the component creates it.
 */
export class InfisicalOperator extends pulumi.ComponentResource {
  /** Namespace of the release. */
  readonly namespace: pulumi.Output<string>;
  /** Helm release name. */
  readonly releaseName: pulumi.Output<string>;
  /** Installed chart version. */
  readonly chartVersion: pulumi.Output<string>;
  /** The Helm release, for resources that need the operator's CRDs to exist first. */
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: InfisicalOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("anythingllm:operator:InfisicalOperator", name, {}, opts);

    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: args.namespace } },
      { parent: this },
    );

    const installCrds = args.installCrds ?? true;
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: args.releaseName ?? name,
        chart: operatorChartName,
        version: args.chartVersion,
        repositoryOpts: { repo: operatorChartRepository },
        namespace: namespace.metadata.name,
        values: pulumi
          .output(args.hostApi)
          .apply((hostApi) => operatorHelmValues(hostApi, installCrds)),
      },
      { parent: this },
    );

    this.namespace = namespace.metadata.name;
    this.releaseName = this.release.name;
    this.chartVersion = pulumi.output(args.chartVersion);
    this.registerOutputs({
      namespace: this.namespace,
      releaseName: this.releaseName,
      chartVersion: this.chartVersion,
      release: this.release,
    });
  }
}
