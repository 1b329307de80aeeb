import { channelOf } from "../../../shared/protocol.ts";
import type { EventBus } from "../../events/bus.ts";
import type { FilesChannel } from "../../watch/files-channel.ts";
import type { Hub } from "../hub.ts";

/**
 * `files:<cellId>`: a FilesSnapshot (watch mode, the diff summary against the base), then FilesEvents
 * with only the entries that changed. A subscriber keeps the cell's watcher running; the last one to
 * leave stops it. Not resumable: while nobody watched, nothing recorded what changed, so a returning
 * subscriber always gets a fresh snapshot.
 */
export function registerFilesChannel(hub: Hub, files: FilesChannel, bus: EventBus): () => void {
  hub.registerProvider("files", {
    resumable: false,
    bulk: true,
    snapshot: async (cellId, sub) => {
      const snapshot = await files.subscribe(cellId);
      sub.onEnd(() => void files.unsubscribe(cellId));
      return snapshot;
    },
  });
  return bus.on("files.changed", ({ cellId, event }) => hub.publish(channelOf("files", cellId), event));
}
