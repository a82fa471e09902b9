/**
 * The files of a folder the person picked (<input webkitdirectory>) or dropped (a DataTransfer whose
 * item is a directory entry), as plain Files plus the folder's name. Only the folder's top level is
 * read: a model folder keeps its files there.
 */

export interface PickedFolder {
  name: string;
  files: File[];
}

/** From an <input type=file webkitdirectory>: each File's webkitRelativePath starts with the folder. */
export function folderFromInput(list: FileList): PickedFolder {
  const files = [...list];
  const first = files[0]?.webkitRelativePath ?? '';
  return { name: first.split('/')[0] || 'folder', files };
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

function directoryEntries(directory: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = directory.createReader();
  const all: FileSystemEntry[] = [];
  // readEntries returns at most ~100 entries per call; an empty batch means the end.
  return new Promise((resolve, reject) => {
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all);
        else {
          all.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

/** From a drop: a directory item gives its files; loose files dropped together count as one folder. */
export async function folderFromDrop(transfer: DataTransfer): Promise<PickedFolder> {
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry()).filter((e) => e !== null);
  const directory = entries.find((e): e is FileSystemDirectoryEntry => e.isDirectory);
  if (directory) {
    const inside = await directoryEntries(directory);
    const files = await Promise.all(
      inside.filter((e): e is FileSystemFileEntry => e.isFile).map((e) => entryFile(e)),
    );
    return { name: directory.name, files };
  }
  return { name: 'dropped-files', files: [...transfer.files] };
}
