/**
 * What a plan asks for: the writes, described before they happen (dry run) and performed in order (--execute).
 */
import type { DownloadJob, ExportFile } from "../../handlers/shared/export-file";
import type { QuarantineRecord } from "../../handlers/shared/quarantine";
import type { ListedObject } from "./ports";

/** A queue resolved to what SQS calls need. */
export interface QueueRef {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

/** An object of the exports bucket, with the identity its key carries. */
export interface ExportObject extends ListedObject {
  readonly file: ExportFile;
}

/** Put the object's S3 "Object Created" event on a loader's queue (what the table's EventBridge rule does). */
export interface SendObjectCreatedAction {
  readonly type: "send-object-created";
  readonly queue: QueueRef;
  readonly bucket: string;
  readonly object: ExportObject;
}

/** SQS's DLQ redrive: move the dead-letter queue's messages to the queue they came from. */
export interface StartMessageMoveTaskAction {
  readonly type: "start-message-move-task";
  readonly source: QueueRef;
  readonly destination: QueueRef;
  /** ApproximateNumberOfMessages of the source when planned. */
  readonly approximateMessages: number;
  readonly maxPerSecond?: number;
}

/**
 * Send a quarantined payload's download job (as the receiver builds it) to the downloads queue, then move its record
 * from quarantine/pending/ to quarantine/resubmitted/.
 */
export interface ResubmitQuarantinedAction {
  readonly type: "resubmit-quarantined";
  readonly bucket: string;
  /** The record's key under quarantine/pending/. */
  readonly key: string;
  readonly record: QuarantineRecord;
  readonly job: DownloadJob;
  readonly queue: QueueRef;
}

export type ReplayAction = SendObjectCreatedAction | StartMessageMoveTaskAction | ResubmitQuarantinedAction;

/** `12.3 MiB` */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** One line naming the action, in the imperative: `send ... to ...`, `start a message move task ...`. */
export function describeAction(action: ReplayAction): string {
  switch (action.type) {
    case "send-object-created": {
      const { object } = action;
      return (
        `send ${object.key} (${object.file.kind}, exported ${object.file.exportedAt}, ${formatBytes(object.size)}) ` +
        `to ${action.queue.name}`
      );
    }
    case "start-message-move-task":
      return (
        `start a message move task from ${action.source.name} (about ${action.approximateMessages} ` +
        `message${action.approximateMessages === 1 ? "" : "s"}) to ${action.destination.name}` +
        (action.maxPerSecond !== undefined ? ` at most ${action.maxPerSecond} per second` : "")
      );
    case "resubmit-quarantined":
      return (
        `send the ${action.job.kind} export ${action.job.fileName} of ${action.job.table} (quarantined ` +
        `${action.record.receivedAt}) to ${action.queue.name}, and mark ${action.key} re-submitted`
      );
  }
}
