export interface ChangedFile {
  /** A added, M modified, D deleted, T type changed (a file became a symbolic link, say). */
  status: 'A' | 'M' | 'D' | 'T';
  path: string;
  /** The git modes before and after ('' where absent); only a regular file is a grant file. */
  oldMode: string;
  newMode: string;
  /** Person ids whose own access this change grants or changes: the grantee, a person whose entry changed. */
  affects: string[];
  /** For _people.yaml: every changed entry differs in names or emails only. */
  namesOnly?: boolean;
  /** For a new grant file: the grant of that person to that app was revoked recently, in this commit. */
  regrant?: { commit: string; at: number };
  /** For an edited grant file: it only takes access away, or restores it as the protected branch has it. */
  shortens?: boolean;
}
