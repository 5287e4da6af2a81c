/** What a failed run leaves behind, in words: said only when it is true. */
export function afterFailure(chunksStaged: number): string {
  if (chunksStaged === 0) return 'Nothing was staged, and the bookmark is where it was.';
  return `The ${chunksStaged === 1 ? 'chunk' : `${chunksStaged} chunks`} staged before the failure ${chunksStaged === 1 ? 'is' : 'are'} kept; the next run resumes after ${chunksStaged === 1 ? 'it' : 'them'}.`;
}
