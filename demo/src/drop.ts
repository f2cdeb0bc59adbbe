/**
 * Images from the user: files dropped anywhere on the page (folders walked by
 * convae's `filesFromDrop`, their sub-folders becoming classes), a file picker
 * and a folder picker (`webkitdirectory`). Each hands its files to `onFiles`
 * (or the error of walking a dropped folder).
 */
import { filesFromDrop, type ImageFileInput } from 'convae';

export function acceptImages(
  zone: HTMLElement,
  pickers: HTMLInputElement[],
  onFiles: (files: ImageFileInput[] | Error) => void,
  enabled: () => boolean,
): void {
  const hasFiles = (e: DragEvent) => !!e.dataTransfer && [...e.dataTransfer.types].includes('Files');
  document.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer!.dropEffect = enabled() ? 'copy' : 'none';
    zone.classList.add('dragging');
  });
  document.addEventListener('dragleave', (e) => {
    if (e.relatedTarget === null) zone.classList.remove('dragging');
  });
  document.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    zone.classList.remove('dragging');
    if (!enabled()) return;
    // filesFromDrop takes the entries synchronously, before the event ends.
    filesFromDrop(e.dataTransfer!).then(onFiles, (err) => onFiles(err instanceof Error ? err : new Error(String(err))));
  });
  for (const input of pickers)
    input.addEventListener('change', () => {
      const files = [...(input.files ?? [])];
      input.value = '';
      if (files.length) onFiles(files);
    });
}
