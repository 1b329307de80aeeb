import type { ModelRef, ProviderList } from "../../shared/agents.ts";
import type { AgentChoice } from "../../shared/config.ts";
import { HiveError } from "../../shared/errors.ts";

/**
 * Which model a cell's agent uses: the choice made at cell creation, then the template's `agent`, then
 * the workspace's default in hive.config.json. Without any of them, the model OpenCode's configuration
 * names (the workspace's opencode.json), named explicitly: left to itself, OpenCode keeps a session on
 * the model it last used, so a model changed in opencode.json would never reach an existing cell. With
 * none named anywhere, OpenCode picks its default. A model Hive's config names that OpenCode does not
 * know is an error naming it, never a silent fallback to another.
 */
export function chooseModel(
  providers: ProviderList,
  ...choices: (AgentChoice | undefined)[]
): { model: ModelRef | null; source: string } {
  const sources = ["cell", "template", "workspace default"];
  const i = choices.findIndex((c) => c !== undefined);
  if (i < 0) return { model: providers.configured, source: "OpenCode's configuration" };
  const choice = choices[i]!;
  const provider = providers.providers.find((p) => p.id === choice.providerId);
  if (!provider) {
    throw new HiveError(
      "CONFIG_INVALID",
      `Unknown model provider '${choice.providerId}' (model '${choice.modelId}', chosen by the ${sources[i]}); OpenCode knows: ${providers.providers.map((p) => p.id).join(", ") || "none"}.`,
      { providerId: choice.providerId, modelId: choice.modelId },
    );
  }
  if (!provider.models.some((m) => m.id === choice.modelId)) {
    throw new HiveError(
      "CONFIG_INVALID",
      `Unknown model '${choice.modelId}' of provider '${choice.providerId}' (chosen by the ${sources[i]}); it has: ${provider.models
        .map((m) => m.id)
        .slice(0, 20)
        .join(", ")}.`,
      { providerId: choice.providerId, modelId: choice.modelId },
    );
  }
  return { model: { providerId: choice.providerId, modelId: choice.modelId }, source: sources[i]! };
}
