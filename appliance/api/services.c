/* appliance/api/services.c: the table of served services. */
#include "appliance/api/services.h"

#include "appliance/api/admin.h"
#include "appliance/api/connectors.h"
#include "appliance/api/endpoints.h"
#include "appliance/api/groups.h"
#include "appliance/api/health.h"
#include "appliance/api/inventory.h"
#include "appliance/api/jobs.h"
#include "appliance/api/reflection.h"
#include "appliance/api/reports.h"
#include "appliance/api/workorders.h"

const api_service api_services[] = {
    {"clm.v1.Admin", admin_methods, &admin_methods_count},
    {"clm.v1.Connectors", connectors_methods, &connectors_methods_count},
    {"clm.v1.Endpoints", endpoints_methods, &endpoints_methods_count},
    {"clm.v1.Groups", groups_methods, &groups_methods_count},
    {"clm.v1.Inventory", inventory_methods, &inventory_methods_count},
    {"clm.v1.Jobs", jobs_methods, &jobs_methods_count},
    {"clm.v1.Reports", reports_methods, &reports_methods_count},
    {"clm.v1.WorkOrders", workorders_methods, &workorders_methods_count},
    {"grpc.health.v1.Health", health_methods, &health_methods_count},
    {"grpc.reflection.v1alpha.ServerReflection", reflection_v1alpha_methods,
     &reflection_v1alpha_methods_count},
    {"grpc.reflection.v1.ServerReflection", reflection_v1_methods, &reflection_v1_methods_count},
};
const size_t api_services_count = sizeof(api_services) / sizeof(api_services[0]);
