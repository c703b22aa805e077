import { Matches } from 'class-validator';

/**
 * No control characters (Unicode Cc) and no bidirectional formatting characters: in free text
 * they garble log lines and timelines, and a right-to-left override shows text reversed
 * (`rent \u202Egnp.exe` reads as "rent exe.png").
 */
const PLAIN_TEXT = /^[^\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]*$/u;

/** Free text a person typed: any character but control and bidirectional formatting ones. */
export function IsPlainText(): PropertyDecorator {
  return Matches(PLAIN_TEXT, {
    message: ({ property }) =>
      `${property} must not contain control or bidirectional formatting characters`,
  });
}
