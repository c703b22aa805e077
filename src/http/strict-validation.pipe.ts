import { ArgumentMetadata, Injectable, ValidationPipe } from '@nestjs/common';
import { ValidationError, getMetadataStorage } from 'class-validator';

/**
 * Nest's ValidationPipe, plus a refusal of every field the DTO does not declare, whatever its
 * name, before class-transformer sees the value. class-validator's own whitelist looks fields up
 * in a plain object, so `constructor`, `toString` or `__proto__` pass it as if declared.
 */
@Injectable()
export class StrictValidationPipe extends ValidationPipe {
  private readonly declaredFields = new WeakMap<object, ReadonlySet<string>>();

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const declared = this.declaredFieldsOf(metadata);
    if (declared && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const undeclared = Object.keys(value).filter((field) => !declared.has(field));
      if (undeclared.length > 0) throw this.exceptionFactory(undeclared.map(undeclaredField));
    }
    return super.transform(value, metadata);
  }

  private declaredFieldsOf({ type, metatype }: ArgumentMetadata): ReadonlySet<string> | null {
    if ((type !== 'body' && type !== 'query') || !metatype) return null;
    let fields = this.declaredFields.get(metatype);
    if (!fields) {
      const validations = getMetadataStorage().getTargetValidationMetadatas(
        metatype,
        '',
        true,
        false,
      );
      fields = new Set(validations.map((validation) => validation.propertyName));
      this.declaredFields.set(metatype, fields);
    }
    return fields.size > 0 ? fields : null;
  }
}

/** The same error class-validator's whitelist reports for an undeclared field. */
function undeclaredField(property: string): ValidationError {
  const error = new ValidationError();
  error.property = property;
  error.constraints = { whitelistValidation: `property ${property} should not exist` };
  return error;
}
