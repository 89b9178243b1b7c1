/**
 * A model of what the Pulumi engine does on one `pulumi up --refresh` of this program, for tests that run
 * the providers over many simulated days. It keeps a state file in memory and follows the engine's order:
 *
 * 1. refresh: `read` every resource in the state, pending deletions included, and drop the ones that are gone;
 * 2. register the program's resources in dependency order: `check`, then `create` for a new resource, or
 *    `diff` and then `update` in place or create-before-delete replacement, which marks the old one for deletion;
 * 3. after all creates and updates, delete the resources marked for deletion, dependents first.
 *
 * A failed step ends the run: no later step starts and nothing is deleted, so the resources marked for
 * deletion stay in the state and the next successful run deletes them at its end. This matches
 * `performDeletes` and `GenerateDeletes` in pulumi/pulumi `pkg/resource/deploy` (3.2xx), where pending
 * deletions from an earlier run are deleted at the end of the next run, not before it.
 */

/** The provider methods the engine calls; both serialized dynamic providers and local stand-ins implement it. */
export interface HarnessProvider {
  check?(olds: Props, news: Props): Promise<{ inputs?: Props; failures?: unknown[] }>;
  diff(id: string, olds: Props, news: Props): Promise<DiffResult>;
  create(inputs: Props): Promise<{ id: string; outs?: Props }>;
  read?(id: string, props: Props): Promise<{ id?: string; props?: Props }>;
  update?(id: string, olds: Props, news: Props): Promise<{ outs?: Props }>;
  delete?(id: string, props: Props): Promise<void>;
}

export type Props = Record<string, any>;

export interface DiffResult {
  changes?: boolean;
  replaces?: string[];
  deleteBeforeReplace?: boolean;
}

/** One resource of the program: its provider, its dependencies and how its inputs derive from their outputs. */
export interface ResourceDeclaration {
  urn: string;
  provider: HarnessProvider;
  dependsOn: string[];
  inputs(outputsOf: (urn: string) => Props): Props;
  /** The serialized provider code, stored as `__provider` in inputs and outputs as the engine does. */
  providerText?: string;
}

/** One entry of the state file. */
export interface StateEntry {
  urn: string;
  id: string;
  inputs: Props;
  outputs: Props;
  provider: HarnessProvider;
  pendingDelete: boolean;
}

export type StepKind =
  "refresh" | "refresh-gone" | "create" | "replace" | "update" | "same" | "delete";

export interface StepRecord {
  urn: string;
  kind: StepKind;
  error?: string;
}

export interface RunResult {
  ok: boolean;
  error?: string;
  steps: StepRecord[];
}

/** An in-memory state file and the engine loop over it. */
export class MiniEngine {
  readonly state: StateEntry[] = [];
  private afterStepHooks: Array<(step: StepRecord) => Promise<void> | void> = [];

  /** Registers a check that runs after every step of every run (invariants of a test). */
  afterEachStep(hook: (step: StepRecord) => Promise<void> | void): void {
    this.afterStepHooks.push(hook);
  }

  live(urn: string): StateEntry | undefined {
    return this.state.find((entry) => entry.urn === urn && !entry.pendingDelete);
  }

  pendingDeletes(): StateEntry[] {
    return this.state.filter((entry) => entry.pendingDelete);
  }

  /** Runs one `pulumi up` with refresh over the given program. */
  async up(program: ResourceDeclaration[]): Promise<RunResult> {
    const steps: StepRecord[] = [];
    const record = async (step: StepRecord) => {
      steps.push(step);
      for (const hook of this.afterStepHooks) {
        await hook(step);
      }
    };

    try {
      await this.refresh(record);
      for (const declaration of program) {
        await this.register(declaration, record);
      }
    } catch (err) {
      return { ok: false, error: (err as Error).message, steps };
    }

    const deleteErrors = await this.deletePending(record);
    if (deleteErrors.length > 0) {
      return { ok: false, error: deleteErrors.join("\n"), steps };
    }
    return { ok: true, steps };
  }

  private async refresh(record: (step: StepRecord) => Promise<void>): Promise<void> {
    for (const entry of [...this.state]) {
      if (!entry.provider.read) {
        continue;
      }
      const result = await entry.provider.read(entry.id, entry.outputs);
      if (!result.id) {
        this.state.splice(this.state.indexOf(entry), 1);
        await record({ urn: entry.urn, kind: "refresh-gone" });
        continue;
      }
      entry.outputs = withProviderText(result.props, entry.outputs);
      await record({ urn: entry.urn, kind: "refresh" });
    }
  }

  private async register(
    declaration: ResourceDeclaration,
    record: (step: StepRecord) => Promise<void>,
  ): Promise<void> {
    const outputsOf = (urn: string): Props => {
      const entry = this.live(urn);
      if (!entry) {
        throw new Error(`harness: ${declaration.urn} needs ${urn}, which is not in the state`);
      }
      return entry.outputs;
    };
    const old = this.live(declaration.urn);
    let inputs = declaration.inputs(outputsOf);
    if (declaration.providerText !== undefined) {
      inputs = { ...inputs, __provider: declaration.providerText };
    }
    if (declaration.provider.check) {
      const checked = await declaration.provider.check(old?.inputs ?? {}, inputs);
      if (checked.failures && checked.failures.length > 0) {
        throw new Error(`check failed for ${declaration.urn}: ${JSON.stringify(checked.failures)}`);
      }
      inputs = checked.inputs ?? inputs;
    }

    if (!old) {
      const created = await this.runStep(declaration.urn, "create", record, () =>
        declaration.provider.create(inputs),
      );
      this.state.push(this.entryOf(declaration, created.id, inputs, created.outs));
      await record({ urn: declaration.urn, kind: "create" });
      return;
    }

    const diff = await declaration.provider.diff(old.id, old.outputs, inputs);
    if (diff.replaces && diff.replaces.length > 0) {
      const created = await this.runStep(declaration.urn, "replace", record, () =>
        declaration.provider.create(inputs),
      );
      old.pendingDelete = true;
      this.state.push(this.entryOf(declaration, created.id, inputs, created.outs));
      await record({ urn: declaration.urn, kind: "replace" });
      return;
    }
    if (diff.changes) {
      const updated = await this.runStep(declaration.urn, "update", record, async () => {
        if (!declaration.provider.update) {
          throw new Error(`harness: ${declaration.urn} changed but its provider has no update`);
        }
        return declaration.provider.update(old.id, old.outputs, inputs);
      });
      old.inputs = inputs;
      old.outputs = withProviderText(updated.outs, inputs);
      await record({ urn: declaration.urn, kind: "update" });
      return;
    }
    await record({ urn: declaration.urn, kind: "same" });
  }

  private async deletePending(record: (step: StepRecord) => Promise<void>): Promise<string[]> {
    const errors: string[] = [];
    for (const entry of [...this.state].reverse()) {
      if (!entry.pendingDelete) {
        continue;
      }
      try {
        if (entry.provider.delete) {
          await entry.provider.delete(entry.id, entry.outputs);
        }
        this.state.splice(this.state.indexOf(entry), 1);
        await record({ urn: entry.urn, kind: "delete" });
      } catch (err) {
        const message = (err as Error).message;
        errors.push(message);
        await record({ urn: entry.urn, kind: "delete", error: message });
      }
    }
    return errors;
  }

  private async runStep<T>(
    urn: string,
    kind: StepKind,
    record: (step: StepRecord) => Promise<void>,
    action: () => Promise<T>,
  ): Promise<T> {
    try {
      return await action();
    } catch (err) {
      await record({ urn, kind, error: (err as Error).message });
      throw err;
    }
  }

  private entryOf(
    declaration: ResourceDeclaration,
    id: string,
    inputs: Props,
    outs: Props | undefined,
  ): StateEntry {
    return {
      urn: declaration.urn,
      id,
      inputs,
      outputs: withProviderText(outs, inputs),
      provider: declaration.provider,
      pendingDelete: false,
    };
  }
}

/**
 * Returns a provider result as the state stores it: exactly what the provider returned, plus the
 * `__provider` text, as the dynamic provider host does. A provider that returns no outputs therefore
 * wipes the stored ones, which is the failure this model must be able to show.
 */
function withProviderText(result: Props | undefined, props: Props): Props {
  const stored: Props = { ...(result ?? {}) };
  if (props.__provider !== undefined) {
    stored.__provider = props.__provider;
  }
  return stored;
}
