import { AppError } from '../../lib/app-error.js';
import type { Stage } from './stage.js';

/** Stage 1: the user's text, cleaned: Unicode NFC, and never a blank turn. */
export const normalize: Stage = async (ctx) => {
  const content = ctx.input.content.normalize('NFC');
  if (content.trim() === '') throw new AppError('VALIDATION_FAILED', 'content: must not be empty');
  ctx.content = content;
};
