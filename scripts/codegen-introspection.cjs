// A GraphQL Code Generator plugin: the schema as the dashboard's normalized cache
// (@urql/exchange-graphcache) needs it, minified to the types, fields and unions it reads, so
// that it can match fragments on RecipientOption and serve partial results.
const { getIntrospectedSchema, minifyIntrospectionQuery } = require('@urql/introspection');

module.exports = {
  plugin(schema) {
    const minified = minifyIntrospectionQuery(getIntrospectedSchema(schema), { includeScalars: false, includeEnums: false, includeInputs: false, includeDirectives: false });
    return `// Generated from schema.graphql by scripts/codegen-introspection.cjs: do not edit.\nexport default ${JSON.stringify(minified)};\n`;
  },
};
