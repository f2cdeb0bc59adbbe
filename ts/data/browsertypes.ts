/**
 * The browser image loaders' (imagefiles.ts) own types: where they decoded,
 * and the page objects they take, described by the members the loaders use.
 * With the DOM's types in their signatures, every project importing convae
 * would need the DOM lib, a Node-only one too; DOM objects fit these as they
 * are. Kept apart from decodepool.ts, whose declarations (bitmaps, canvases)
 * do need it.
 */

/** Where the images were decoded. */
export type DecodedIn = 'workers' | 'main thread';

/**
 * Anything `createImageBitmap` takes (an `ImageBitmapSource`): an `ImageBitmap`,
 * a canvas or `OffscreenCanvas`, an `<img>` or `<video>` element, a
 * `VideoFrame`, `ImageData`, a Blob. Any object here: `createImageBitmap`
 * itself judges it, and one it refuses is a `DataError` naming its index.
 */
export type ImageSourceLike = object;

/** What `loadVideoFrames` uses of an `HTMLVideoElement` (it also captures the element's frames with `createImageBitmap`). */
export interface VideoElementLike {
  /** The time shown, in seconds; set to seek. */
  currentTime: number;
  /** Length in seconds (not finite for a stream: times are then checked against no end). */
  readonly duration: number;
  /** 0 until the metadata (duration) is known, ≥ 2 once the current frame is. */
  readonly readyState: number;
  /** True while a seek is pending. */
  readonly seeking: boolean;
  /** Stops playback, so that the frame shown is the one seeked to. */
  pause(): void;
  /** Waits for `loadedmetadata`, `seeked` and `error`. */
  addEventListener(type: string, listener: () => void): void;
  /** Removes a listener `addEventListener` added. */
  removeEventListener(type: string, listener: () => void): void;
}

/** A dropped file or folder (a `FileSystemEntry`), walked through its `file` or `createReader`. */
export interface FileSystemEntryLike {
  /** True for a file (read with `file`). */
  readonly isFile: boolean;
  /** True for a folder (walked with `createReader`). */
  readonly isDirectory: boolean;
  /** Its name (hidden ones, starting with `.`, are skipped). */
  readonly name: string;
  /** Its path from the root of the drop, `/`-separated. */
  readonly fullPath: string;
  /** A file entry's File. */
  file?(ok: (f: File) => void, fail: (e: unknown) => void): void;
  /** A folder entry's reader: `readEntries` gives its entries in chunks until an empty one. */
  createReader?(): {
    readEntries(ok: (entries: FileSystemEntryLike[]) => void, fail: (e: unknown) => void): void;
  };
}

/** One item of a drop (a `DataTransferItem`): a file, or a folder where the browser gives entries. */
export interface DataTransferItemLike {
  /** 'file' for files and folders (other items are skipped). */
  readonly kind: string;
  /** The file, where the browser gives no entry. */
  getAsFile(): File | null;
  /** The item as an entry, which a folder needs to be walked. */
  webkitGetAsEntry?(): FileSystemEntryLike | null;
}

/** What `filesFromDrop` reads of a `DataTransfer` (a drop event's `dataTransfer`). */
export interface DataTransferLike {
  /** The dropped items, taken before the handler's first await (the browser empties them after the event). */
  readonly items?: ArrayLike<DataTransferItemLike> | null;
  /** The files, where the items give none. */
  readonly files?: ArrayLike<File> | null;
}
