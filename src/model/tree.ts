export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

export interface TreeEntry {
  name: string;
  kind: EntryKind;
}

/** Where a symbolic link leads: a file or folder inside the repository, or why it cannot be followed. */
export type Followed =
  | { ok: true; kind: 'file' | 'dir'; path: string }
  | { ok: false; why: 'outside' | 'missing'; target: string };

/**
 * A read-only view of an access repository's files: the work tree, or one
 * commit's tree read from git objects. Paths are relative to the repository
 * root with forward slashes. The layout walker, the loader and the rules read
 * through it, so a pull request's head is checked exactly as a work tree is.
 */
export interface Tree {
  /** The repository root on disk, for messages and local state. */
  readonly root: string;
  /** The commit read, or undefined for the work tree. */
  readonly commit: string | undefined;
  /** Whether a path exists and what it is (symbolic links are not followed). */
  kind(path: string): EntryKind | undefined;
  /** The entries of a folder; throws when it cannot be read. */
  list(path: string): TreeEntry[];
  /** Follows a symbolic link, and any it leads to, staying inside the repository. */
  follow(path: string): Followed;
  /** Loads what `read` will need, in one batch where the source is slow per file. */
  prefetch(paths: readonly string[]): Promise<void>;
  /** Lets go of what `prefetch` loaded for these paths (a million files are read in slices). */
  release?(paths: readonly string[]): void;
  /** A file's bytes, at most `limit` + 1 of them; valid until the next call. */
  read(path: string, limit: number): Uint8Array;
  /** The file's git blob id where the source knows it without reading (a commit's tree). */
  blobId(path: string): string | undefined;
}
