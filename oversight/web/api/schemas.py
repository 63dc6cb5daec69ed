"""The API's request and response schemas (marshmallow): the OpenAPI document is made from them."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from ...domain.vocabulary import AssignmentStatus, BatchStatus, MediaKind, RecordSource, ServiceType
from ..params import ID_MAX

SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="须为64位小写十六进制的 SHA-256")
DATABASE_ID = validate.Range(min=1, max=ID_MAX)


class ErrorItem(Schema):
    """One refused cell or field: as an upload's error (row, column, value, reason), with the
    request's field name."""

    row = fields.Integer(allow_none=True, metadata={"description": "上传文件中的 Excel 行号；单条服务记录为 null"})
    column = fields.String(metadata={"description": "表格列名（中文），与服务记录模板一致"})
    field = fields.String(metadata={"description": "请求中的字段，如 check_in_at、fields.household_size"})
    value = fields.String()
    reason = fields.String(metadata={"description": "原因（中文）"})


class ApiError(Schema):
    code = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String(required=True, metadata={"description": "说明（中文）"})
    errors = fields.List(fields.Nested(ErrorItem), load_default=list)


class Me(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True)
    contractor_id = fields.Integer(allow_none=True)
    worker_no = fields.String(allow_none=True)


class FormField(Schema):
    key = fields.String(required=True)
    header = fields.String(required=True)
    required = fields.Boolean(required=True)
    note = fields.String(required=True)
    choices = fields.List(fields.String(), required=True)


class SubjectOut(Schema):
    name = fields.String(required=True)
    id_number = fields.String(required=True, metadata={"description": "已遮蔽"})
    township = fields.String(required=True)
    village = fields.String(required=True)


class AssignmentOut(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    contract_code = fields.String(required=True)
    service_type = fields.String(required=True, validate=validate.OneOf(ServiceType.codes()))
    service_label = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(AssignmentStatus.codes()))
    status_label = fields.String(required=True)
    due_date = fields.Date(required=True)
    required_visits = fields.Integer(required=True)
    visits_recorded = fields.Integer(required=True)
    worker_no = fields.String(allow_none=True)
    subject = fields.Nested(SubjectOut, required=True)
    form_fields = fields.List(fields.Nested(FormField), required=True,
                              metadata={"description": "提交服务记录时 fields 中可填的项（与服务记录模板相同的规则）"})


class AssignmentQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(validate=validate.OneOf(AssignmentStatus.codes()))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class AssignmentPage(Schema):
    items = fields.List(fields.Nested(AssignmentOut), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)


class IdempotencyHeader(Schema):
    class Meta:
        unknown = EXCLUDE

    idempotency_key = fields.String(required=True, data_key="Idempotency-Key",
                                    validate=validate.Regexp(r"^[A-Za-z0-9_.:-]{8,64}$",
                                                             error="须为 8–64 位字母、数字或 _ . : -"),
                                    metadata={"description": "每条服务记录一个（如 UUID）；重试时不变"})


class VisitIn(Schema):
    assignment_id = fields.Integer(required=True, strict=True, validate=DATABASE_ID)
    check_in_at = fields.AwareDateTime(required=True, metadata={"description": "签到时间（设备时间，ISO 8601，含时区）"})
    check_out_at = fields.AwareDateTime(required=True)
    device_sent_at = fields.AwareDateTime(allow_none=True, load_default=None,
                                          metadata={"description": "设备发送这条记录时的时间"})
    longitude = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=-180, max=180))
    latitude = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=-90, max=90))
    accuracy_m = fields.Float(allow_none=True, load_default=None, allow_nan=False,
                              validate=validate.Range(min=0, max=1_000_000), metadata={"description": "定位精度（米）"})
    worker_no = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=32),
                              metadata={"description": "服务人员工号；外勤账户不填（即本人）"})
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.Raw(allow_none=True),
                          load_default=dict, metadata={"description": "服务表单各项：键见任务的 form_fields"})
    remark = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=500))
    photos = fields.List(fields.String(validate=SHA256), load_default=list, validate=validate.Length(max=20))
    signature = fields.String(allow_none=True, load_default=None, validate=SHA256)
    no_signature_reason = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))


class VisitOut(Schema):
    id = fields.Integer(required=True)
    idempotency_key = fields.String(required=True)
    assignment_id = fields.Integer(required=True)
    record_id = fields.Integer(required=True)
    source = fields.String(required=True, validate=validate.OneOf(RecordSource.codes()))
    service_date = fields.Date(required=True)
    start_time = fields.String(required=True)
    end_time = fields.String(required=True)
    check_in_at = fields.DateTime(required=True)
    check_out_at = fields.DateTime(required=True)
    received_at = fields.DateTime(required=True)
    photos = fields.List(fields.String(), required=True)
    signature = fields.String(allow_none=True)
    no_signature_reason = fields.String(allow_none=True)
    replayed = fields.Boolean(required=True, metadata={"description": "true：同一 Idempotency-Key 的重试，返回首次生成的记录"})


class MediaForm(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(MediaKind.codes()))


class FileUpload(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class MediaUpload(MediaForm):
    """The multipart body of POST /media as documented: its form field and its file."""

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class MediaOut(Schema):
    sha256 = fields.String(required=True)
    kind = fields.String(required=True)
    content_type = fields.String(required=True)
    size_bytes = fields.Integer(required=True)


class UploadForm(Schema):
    contract_id = fields.Integer(required=True, validate=DATABASE_ID)
    service_type = fields.String(required=True, validate=validate.OneOf(ServiceType.codes()))


class LogUpload(UploadForm):
    """The multipart body of POST /uploads as documented: its form fields and its file."""

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class BatchOut(Schema):
    id = fields.Integer(required=True)
    contract_id = fields.Integer(required=True)
    service_type = fields.String(required=True)
    filename = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(BatchStatus.codes()))
    status_label = fields.String(required=True)
    rows_total = fields.Integer(required=True)
    rows_processed = fields.Integer(required=True)
    rows_accepted = fields.Integer(required=True)
    error_count = fields.Integer(required=True)
    errors = fields.List(fields.Nested(ErrorItem), required=True)
    message = fields.String(allow_none=True)
